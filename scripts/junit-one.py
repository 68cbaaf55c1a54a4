#!/usr/bin/env python3
"""Writes a one-test JUnit XML report for a check that is a command, not a JUnit test
(run-tests: ./lab cross-kernel), so scripts/test-summary.py counts it with the rest.
   junit-one.py FILE CLASSNAME TESTNAME EXIT_STATUS SECONDS"""
import os
import sys
from xml.sax.saxutils import quoteattr

path, cls, name, rc, secs = sys.argv[1:6]
failed = rc != "0"
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    f.write(f'<testsuite name={quoteattr(cls)} tests="1" skipped="0" failures="{int(failed)}" errors="0" time="{secs}">\n')
    f.write(f'  <testcase classname={quoteattr(cls)} name={quoteattr(name)} time="{secs}">')
    if failed:
        f.write(f'<failure message={quoteattr("exit status " + rc)}/>')
    f.write('</testcase>\n</testsuite>\n')
