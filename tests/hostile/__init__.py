"""Helpers of ``tests/test_hostile_forms.py``: hostile input to every POST form.

- ``html``: the forms of a page as a browser sees them (fields, options, the values shown);
- ``values``: the hostile values and the mutations of a valid submission (hypothesis);
- ``database``: a fingerprint of every table's content, to see that nothing was half-saved.
"""
