"""The portal's pages, one module per area: sign-in, consent, feed and shares, editors, reports."""
