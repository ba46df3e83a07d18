"""One registry of every URL for the permission matrix and the access matrix.

- ``personas``: the agencies, the personas and the oracle (what the law and the data say each
  persona may see), independent of ``consent.gate``;
- ``world``: the world both matrices request, built once per test module through the services;
- ``registry``: every named URL once, with who may reach it, how to build its arguments, whether
  it shows client data, and for a POST the form it sends and the rows it must leave alone;
- ``http``: requesting as a persona, the sentinels in a response, what a request wrote.

A new view fails ``tests/test_permission_matrix.py`` until it has its row in ``registry``.
"""
