"""Policies: one YAML file (plus the bases it extends) -> a compiled, cached rule set.

    load_policy(name_or_path=None) -> CompiledPolicy      guardrail.policy.loader
    evaluate(effects, policy, allow_no_effects=False) -> Decision   guardrail.policy.engine
    policy_json_schema() -> dict                           guardrail.policy.schema

Nothing is imported here: `guardrail check` imports `loader` and `engine`
directly, and a cached load must not pay for pydantic or yaml. See
docs/policy-format.md for the format.
"""
