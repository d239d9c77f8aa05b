"""The validate report as JUnit XML for CI dashboards: one testcase per rule.

A rule that fails its threshold is a <failure>; a warning is a <failure> only with --fail-on warn,
otherwise it is noted in <system-out>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from crmclean.core.validation import FailOn, RuleResult, ValidationResult


def _describe(rule: RuleResult) -> str:
    return (
        f"{rule.violations} of {rule.checked} checked ({rule.share:.2%}) violate {rule.check}; "
        f"threshold {rule.threshold:.2%}, severity {rule.severity}"
    )


def render(result: ValidationResult, fail_on: FailOn = "error", name: str = "crmclean") -> str:
    failing = {"fail", "warn"} if fail_on == "warn" else {"fail"}
    failures = sum(1 for r in result.results if r.status in failing)
    suites = ET.Element("testsuites", name=name, tests=str(len(result.results)))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"{name}.validate",
        tests=str(len(result.results)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="score", value=str(result.score)
    )
    for rule in result.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{name}.{rule.column or 'dataset'}",
            name=rule.rule_id,
        )
        if rule.status in failing:
            failure = ET.SubElement(case, "failure", message=_describe(rule), type=rule.severity)
            failure.text = _describe(rule)
        elif rule.violations:
            ET.SubElement(case, "system-out").text = _describe(rule)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
