"""The lesson's claims, one module each (what a claim is: `tl_claims.claims.base`; all of them by id:
`tl_claims.claims.registry`). Importing this package imports nothing, so `tl_claims.claims.base` stays light."""
