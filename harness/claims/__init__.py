"""The lesson's claims, one module each (what a claim is: `harness.claims.base`; all of them by id:
`harness.claims.registry`). Importing this package imports nothing, so `harness.claims.base` stays light."""
