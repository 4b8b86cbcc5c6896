"""Checking policies and the shell around them, for CI: `guardrail lint|test|scan|replay`.

One module per concept:

- `findings`      the Finding record, the code catalogue, severities, filters, inline ignores
- `policy_checks` schema, semantic and risk checks of one policy file
- `shadowing`     whether one rule's conditions cover another's
- `formats`       text, json and github output; `sarif` the SARIF 2.1.0 log
- `policy_tests`  policy test files: run, coverage, JUnit XML
- `sources`       shell found in a repository (scripts, Makefiles, Dockerfiles, CI, ...)
- `scanning`      those snippets checked against a policy
- `replay`        an agent's recorded session checked against a policy
"""
