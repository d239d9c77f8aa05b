"""The rule file as the steps see it: the RuleFile model (`rule_file.py`), which checks it asks
for (`check_plan.py`) and its regexes checked before any data is read (`regexes.py`)."""
