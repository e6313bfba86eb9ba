//! Organizations: create, add and remove members, rename and move, read.
//!
//! Owners and admins of an organization manage it; system administrators may act on any.

use std::sync::Arc;

use uuid::Uuid;

use super::{account_of, Ports};
use crate::domain::events::{EventKind, Origin, SecurityEvent};
use crate::domain::organization::{parse_organization_name, Membership, Organization, Role};
use crate::domain::token::Claims;
use crate::domain::AuthError;
use crate::ports::{Clock, OrganizationStore, OrganizationUpdate, RemovalRequester, UserStore};

/// An organization with its members, as members see it.
#[derive(Debug)]
pub struct OrganizationDetails {
    pub organization: Organization,
    pub members: Vec<Membership>,
}

/// A requested organization change; `parent` is `Some(None)` to make it a root.
#[derive(Debug, Default)]
pub struct OrganizationChange {
    pub name: Option<String>,
    pub parent: Option<Option<Uuid>>,
}

/// What the caller is in one organization.
struct Standing {
    role: Option<Role>,
    is_system_admin: bool,
}

impl Standing {
    fn manages(&self) -> bool {
        self.is_system_admin || self.role.is_some_and(Role::manages)
    }
}

/// Creates and manages organizations and their members.
pub struct Organizations {
    users: Arc<dyn UserStore>,
    organizations: Arc<dyn OrganizationStore>,
    clock: Arc<dyn Clock>,
}

impl Organizations {
    pub fn new(ports: &Ports) -> Self {
        Self {
            users: ports.users.clone(),
            organizations: ports.organizations.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Creates an organization owned by the caller, under `parent_id` if given (which the
    /// caller must manage).
    pub async fn create_organization(
        &self,
        caller: &Claims,
        name: &str,
        parent_id: Option<Uuid>,
    ) -> Result<Uuid, AuthError> {
        let name = parse_organization_name(name)?;
        if let Some(parent_id) = parent_id {
            self.ensure_manages(caller, parent_id, "parent organization").await?;
        } else {
            account_of(self.users.as_ref(), caller).await?;
        }
        let now = self.clock.unix_now();
        let organization = Organization {
            id: self.clock.new_id(),
            name,
            parent_id,
            created_at: now,
        };
        let owner = Membership {
            id: self.clock.new_id(),
            organization_id: organization.id,
            user_id: caller.sub,
            role: Role::Owner,
            created_at: now,
        };
        self.organizations.insert_organization(&organization, &owner).await?;
        Ok(organization.id)
    }

    /// Adds a user with `role` (`member` or `admin`); returns the membership id.
    pub async fn add_member(
        &self,
        caller: &Claims,
        organization_id: Uuid,
        user_id: Uuid,
        role: Option<&str>,
        origin: &Origin,
    ) -> Result<Uuid, AuthError> {
        let role = Role::parse_grantable(role)?;
        self.ensure_manages(caller, organization_id, "organization").await?;
        if self.users.user_by_id(user_id).await?.is_none() {
            return Err(AuthError::NotFound("user"));
        }
        let membership = Membership {
            id: self.clock.new_id(),
            organization_id,
            user_id,
            role,
            created_at: self.clock.unix_now(),
        };
        let event = self.member_event(
            EventKind::OrganizationMemberAdded,
            caller,
            organization_id,
            user_id,
            origin,
        );
        self.organizations.add_member(&membership, &event).await?;
        Ok(membership.id)
    }

    /// Renames and/or moves an organization; a new parent must be managed by the caller too.
    pub async fn update_organization(
        &self,
        caller: &Claims,
        organization_id: Uuid,
        change: OrganizationChange,
    ) -> Result<(), AuthError> {
        let name = change.name.as_deref().map(parse_organization_name).transpose()?;
        if name.is_none() && change.parent.is_none() {
            return Err(AuthError::invalid("body", "give a name, a parentId, or both"));
        }
        self.ensure_manages(caller, organization_id, "organization").await?;
        if let Some(Some(parent_id)) = change.parent {
            if parent_id == organization_id {
                return Err(AuthError::CyclicRelationship);
            }
            self.ensure_manages(caller, parent_id, "parent organization").await?;
        }
        match self
            .organizations
            .update_organization(organization_id, name.as_deref(), change.parent)
            .await?
        {
            OrganizationUpdate::Updated => Ok(()),
            OrganizationUpdate::UnknownOrganization => Err(AuthError::NotFound("organization")),
            OrganizationUpdate::UnknownParent => Err(AuthError::NotFound("parent organization")),
            OrganizationUpdate::WouldCycle => Err(AuthError::CyclicRelationship),
        }
    }

    /// The organization and its members; for its members and system administrators.
    pub async fn organization_details(
        &self,
        caller: &Claims,
        organization_id: Uuid,
    ) -> Result<OrganizationDetails, AuthError> {
        let organization = self
            .organizations
            .organization(organization_id)
            .await?
            .ok_or(AuthError::NotFound("organization"))?;
        let standing = self.standing(caller, organization_id).await?;
        if standing.role.is_none() && !standing.is_system_admin {
            return Err(AuthError::Forbidden("only members may see an organization"));
        }
        let members = self.organizations.members(organization_id).await?;
        Ok(OrganizationDetails { organization, members })
    }

    /// Removes a member; owners only by owners, never the last owner.
    pub async fn remove_member(
        &self,
        caller: &Claims,
        organization_id: Uuid,
        user_id: Uuid,
        origin: &Origin,
    ) -> Result<(), AuthError> {
        if self.organizations.organization(organization_id).await?.is_none() {
            return Err(AuthError::NotFound("organization"));
        }
        let standing = self.standing(caller, organization_id).await?;
        if !standing.manages() {
            return Err(AuthError::Forbidden("only owners and admins may remove members"));
        }
        let requester = RemovalRequester {
            role: standing.role,
            is_system_admin: standing.is_system_admin,
        };
        let event = self.member_event(
            EventKind::OrganizationMemberRemoved,
            caller,
            organization_id,
            user_id,
            origin,
        );
        self.organizations
            .remove_member(organization_id, user_id, requester, &event)
            .await??;
        Ok(())
    }

    /// The event of a membership change, on the account of the member it concerns.
    fn member_event(
        &self,
        kind: EventKind,
        caller: &Claims,
        organization_id: Uuid,
        user_id: Uuid,
        origin: &Origin,
    ) -> SecurityEvent {
        SecurityEvent::new(kind, Some(user_id), self.clock.stamp())
            .from(origin)
            .with("organizationId", organization_id.to_string())
            .with("by", caller.sub.to_string())
    }

    /// The caller's organizations and role in each.
    pub async fn my_organizations(&self, caller: &Claims) -> Result<Vec<(Organization, Role)>, AuthError> {
        Ok(self.organizations.organizations_of(caller.sub).await?)
    }

    /// 404 if the organization is unknown, 403 unless the caller manages it.
    async fn ensure_manages(
        &self,
        caller: &Claims,
        organization_id: Uuid,
        what: &'static str,
    ) -> Result<(), AuthError> {
        if self.organizations.organization(organization_id).await?.is_none() {
            return Err(AuthError::NotFound(what));
        }
        if !self.standing(caller, organization_id).await?.manages() {
            return Err(AuthError::Forbidden(
                "only owners and admins may manage an organization",
            ));
        }
        Ok(())
    }

    async fn standing(&self, caller: &Claims, organization_id: Uuid) -> Result<Standing, AuthError> {
        let (user, role) = tokio::try_join!(account_of(self.users.as_ref(), caller), async {
            Ok(self.organizations.role_of(organization_id, caller.sub).await?)
        })?;
        Ok(Standing {
            role,
            is_system_admin: user.is_admin,
        })
    }
}
