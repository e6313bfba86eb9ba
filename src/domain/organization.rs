//! Organizations, roles, and the rules of the hierarchy and of membership.

use uuid::Uuid;

use super::AuthError;

/// Longest organization name, in characters.
pub const MAX_ORGANIZATION_NAME_LEN: usize = 128;

/// An organization; `parent_id` places it in the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub created_at: i64,
}

/// What a member may do in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Made it (or was made owner); may do everything, including removing owners.
    Owner,
    /// May rename, move, add and remove members (but not owners).
    Admin,
    /// May read the organization.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parses a stored role.
    pub fn from_stored(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// The role a request may grant with `POST /organization/add`: `member` (default) or `admin`.
    pub fn parse_grantable(text: Option<&str>) -> Result<Self, AuthError> {
        match text.unwrap_or("member") {
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            _ => Err(AuthError::invalid("role", "must be \"member\" or \"admin\"")),
        }
    }

    /// Owners and admins manage an organization.
    pub fn manages(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// One user's membership of one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub created_at: i64,
}

/// Validates an organization name: 1 to 128 characters, no control characters.
pub fn parse_organization_name(raw: &str) -> Result<String, AuthError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_ORGANIZATION_NAME_LEN || name.chars().any(char::is_control) {
        return Err(AuthError::invalid(
            "name",
            format!("must be 1 to {MAX_ORGANIZATION_NAME_LEN} characters without control characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Whether making `new_parent` the parent of `organization` would close a cycle, given the
/// chain of `new_parent` and its ancestors (`new_parent` first, up to a root).
pub fn would_create_cycle(organization: Uuid, new_parent_and_ancestors: &[Uuid]) -> bool {
    new_parent_and_ancestors.contains(&organization)
}

/// Whether a caller with `caller_role` (or a system administrator) may remove a member with
/// `target_role`, when the organization has `owners` owners.
pub fn check_member_removal(
    caller_role: Option<Role>,
    caller_is_system_admin: bool,
    target_role: Role,
    owners: usize,
) -> Result<(), AuthError> {
    let allowed = caller_is_system_admin
        || match caller_role {
            Some(Role::Owner) => true,
            Some(Role::Admin) => target_role != Role::Owner,
            _ => false,
        };
    if !allowed {
        return Err(AuthError::Forbidden(
            "only owners and admins may remove members, and only owners remove owners",
        ));
    }
    if target_role == Role::Owner && owners <= 1 {
        return Err(AuthError::LastOwner);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn an_organization_cannot_be_its_own_parent_or_descendant() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        // c -> b -> a (c's parent is b, b's parent is a)
        assert!(would_create_cycle(a, &[a]));
        assert!(would_create_cycle(a, &[c, b, a]));
        assert!(!would_create_cycle(c, &[a]));
    }

    #[test]
    fn roles_that_may_be_granted() {
        assert_eq!(Role::parse_grantable(None).unwrap(), Role::Member);
        assert_eq!(Role::parse_grantable(Some("admin")).unwrap(), Role::Admin);
        assert!(Role::parse_grantable(Some("owner")).is_err());
        assert!(Role::parse_grantable(Some("root")).is_err());
    }

    #[test]
    fn the_last_owner_stays() {
        assert!(matches!(
            check_member_removal(Some(Role::Owner), false, Role::Owner, 1),
            Err(AuthError::LastOwner)
        ));
        assert!(check_member_removal(Some(Role::Owner), false, Role::Owner, 2).is_ok());
        assert!(matches!(
            check_member_removal(Some(Role::Admin), false, Role::Owner, 2),
            Err(AuthError::Forbidden(_))
        ));
        assert!(check_member_removal(Some(Role::Admin), false, Role::Member, 1).is_ok());
        assert!(check_member_removal(None, true, Role::Admin, 1).is_ok());
        assert!(matches!(
            check_member_removal(Some(Role::Member), false, Role::Member, 1),
            Err(AuthError::Forbidden(_))
        ));
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(parse_organization_name("  Acme  ").unwrap(), "Acme");
        assert!(parse_organization_name("").is_err());
        assert!(parse_organization_name(&"n".repeat(129)).is_err());
    }

    /// Ancestors of `node` in a parent map, `node` first.
    fn chain(parents: &HashMap<usize, usize>, node: usize) -> Vec<usize> {
        let mut chain = vec![node];
        let mut current = node;
        while let Some(&parent) = parents.get(&current) {
            if chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain
    }

    /// Whether following parents from any node ever revisits a node.
    fn has_cycle(parents: &HashMap<usize, usize>, nodes: usize) -> bool {
        (0..nodes).any(|start| {
            let mut seen = vec![start];
            let mut current = start;
            while let Some(&parent) = parents.get(&current) {
                if seen.contains(&parent) {
                    return true;
                }
                seen.push(parent);
                current = parent;
            }
            false
        })
    }

    proptest! {
        /// On random forests, a move is accepted exactly when the result has no cycle.
        #[test]
        fn the_cycle_rule_agrees_with_brute_force(
            raw_parents in proptest::collection::vec(proptest::option::of(0usize..1000), 1..40),
            moves in proptest::collection::vec((0usize..1000, 0usize..1000), 1..20),
        ) {
            let nodes = raw_parents.len();
            // Node i may only have a parent below i: a forest, as the database holds.
            let mut parents: HashMap<usize, usize> = raw_parents
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.filter(|_| i > 0).map(|p| (i, p % i)))
                .collect();
            let ids: Vec<Uuid> = (0..nodes).map(|_| Uuid::new_v4()).collect();
            for (org, parent) in moves {
                let (org, parent) = (org % nodes, parent % nodes);
                let ancestry: Vec<Uuid> = chain(&parents, parent).into_iter().map(|n| ids[n]).collect();
                let mut candidate = parents.clone();
                candidate.insert(org, parent);
                prop_assert_eq!(would_create_cycle(ids[org], &ancestry), has_cycle(&candidate, nodes));
                if !would_create_cycle(ids[org], &ancestry) {
                    parents = candidate;
                }
            }
        }
    }
}
