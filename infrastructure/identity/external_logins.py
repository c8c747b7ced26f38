"""Builds the external login service (GitHub OAuth, Cloudflare Access) from the ``auth`` settings.

A provider whose credentials are not configured gets no adapter, so its routes answer 404 instead
of failing half-way through a login.
"""

from __future__ import annotations

from domain.clock import Clock
from domain.users.entities import IdentityProvider
from domain.users.external import ExternalLoginService
from domain.users.ports import UserRepository
from infrastructure.identity.cloudflare import CloudflareAccessVerifier
from infrastructure.identity.github import GitHubOAuthClient
from infrastructure.settings import AuthSettings
from infrastructure.storage.identity_link_repository import StoreIdentityLinkRepository
from infrastructure.storage.store import TableStore


def build_external_logins(auth: AuthSettings, store: TableStore, users: UserRepository,
                          clock: Clock) -> ExternalLoginService:
    """The service with an adapter for each provider that has its credentials set."""
    github = None
    if auth.github_client_id and auth.github_client_secret:
        github = GitHubOAuthClient(client_id=auth.github_client_id, client_secret=auth.github_client_secret,
                                   scopes=auth.github_scopes, oauth_url=auth.github_oauth_url,
                                   api_url=auth.github_api_url,
                                   required_organizations=auth.github_required_organizations)
    access = None
    if auth.cf_access_team_domain and auth.cf_access_aud:
        access = CloudflareAccessVerifier(team_domain=auth.cf_access_team_domain, audience=auth.cf_access_aud,
                                          certs_url=auth.cf_access_certs_url,
                                          cache_seconds=auth.cf_access_jwks_cache_seconds)
    return ExternalLoginService(
        users, StoreIdentityLinkRepository(store), clock, github=github, access_verifier=access,
        registration_domains={IdentityProvider.CLOUDFLARE: auth.cf_access_allowed_email_domains})
