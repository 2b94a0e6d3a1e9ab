"""The front door's shared part: what every service's HTTP API is built from.

- app.py: `HttpApi` (mounted by `Service.mount_api`), the dependencies `SignedIn`,
  `requires_role`, `Db` (`Database.command` / `.query`) and `Paging`;
- problems.py: RFC 9457 problem documents, `HttpProblem`, the refused command's status;
- paging.py: `Keyset`, `PageRequest`, `Page`, `paginate`;
- openapi.py: `problem_responses` for routes; the document's problem media type.

Who signed in is services/runtime/identity.py's business.
"""

from services.runtime.api.app import (
    Database,
    Db,
    HttpApi,
    Paging,
    SignedIn,
    database,
    requires_role,
    signed_in,
)
from services.runtime.api.openapi import problem_responses
from services.runtime.api.paging import Keyset, Page, PageRequest, page_request, paginate
from services.runtime.api.problems import HttpProblem, Problem, refusal_status
from services.runtime.identity import Principal

__all__ = [
    "Database", "Db", "HttpApi", "HttpProblem", "Keyset", "Page", "PageRequest", "Paging", "Principal", "Problem",
    "SignedIn", "database", "page_request", "paginate", "problem_responses", "refusal_status",
    "requires_role", "signed_in",
]
