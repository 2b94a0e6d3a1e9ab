"""The portal: the people's pages, a backend-for-frontend (issue #18; ADR 0016).

A fifth process beside the four services. It signs people in at the OpenID Connect issuer
(authorization code with PKCE), keeps their tokens in its memory behind an opaque session
cookie, and calls the services' HTTP APIs with them; it has no database and no Kafka
access. Pages are rendered on the server (Jinja2), in German and English (Babel), with no
script framework and nothing from a CDN.

    config.py     PortalSettings (environment variables)
    oidc.py       sign-in: code flow with PKCE (Authlib), ID token, refresh, sign-out
    sessions.py   sessions in memory, keyed by an opaque id; CSRF tokens; one-time messages
    apis.py       the four services' APIs with the person's token; Problem, Unavailable
    i18n.py       language negotiation, gettext catalogues, dates and numbers per locale
    texts.py      purposes, statuses and refusal reasons as sentences
    web.py        the app: Page (who, language, rendering), forms, errors, security headers
    pages/        auth (sign-in, language, health), consent, feed (and shares, impact,
                  leaderboard), editor (items, review, campaigns, sources), reports
    templates/    Jinja2 pages;  static/  the stylesheet and the one small script
    locale/       the German catalogue (messages.po) and the template (messages.pot)
"""
