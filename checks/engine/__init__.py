"""The verification engine: everything that turns a claim module's checks into recorded verdicts,
without naming any claim.

=====================  ===================================================================
``verdict``            the Verdict enum and the records: Outcome, Decision, Result,
                       Counterexample, Record (built by keyword)
``registry``           Check, Planted, the ``property_check``/``experiment`` decorators, the
                       registry and the discovery of claim modules
``declarations``       the claims declared in docs/claims.md
``runner``             run a check under the loaded profile, verify it against the record
``rules``              the verdict rules (the only place evidence becomes a verdict)
``margins``            margins ≥ 1 ⇔ holds, the one NaN guard, the comparison helper
``stats``              Clopper–Pearson bounds and fitted slopes with intervals
``profiles``           the Hypothesis profile in use and ``pick(table)``
``threads``            the one BLAS-thread setting
``tasks``              independent units of work, their content-addressed cache
``executor``           tasks on local processes or a Dask cluster
``evidence``           JSON-lines spool of check results
``report_data``        verification.json
``figures``            declarative figure specs for the report
``readme``, ``replay`` the README's claims table, replaying an example
=====================  ===================================================================
"""
