#!/usr/bin/env python3
"""Prints one closing line over all JUnit XML reports: unit tier (surefire) and lab tiers."""
import glob
import os
import sys
import xml.etree.ElementTree as ET

repo = sys.argv[1] if len(sys.argv) > 1 else "."
tiers = {
    "unit": glob.glob(os.path.join(repo, "*", "target", "surefire-reports", "TEST-*.xml")),
    "kvm+boot": glob.glob(os.path.join(repo, "target", "lab-reports", "*.xml")),
}
total = {"passed": 0, "failed": 0, "skipped": 0}
for tier, files in tiers.items():
    t = {"tests": 0, "failed": 0, "skipped": 0}
    for f in files:
        root = ET.parse(f).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for s in suites:
            t["tests"] += int(s.get("tests", 0))
            t["failed"] += int(s.get("failures", 0)) + int(s.get("errors", 0))
            t["skipped"] += int(s.get("skipped", 0))
    passed = t["tests"] - t["failed"] - t["skipped"]
    print(f"{tier}: {passed} passed, {t['failed']} failed, {t['skipped']} skipped")
    total["passed"] += passed
    total["failed"] += t["failed"]
    total["skipped"] += t["skipped"]
print(f"{total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
