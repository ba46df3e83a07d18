"""National-size data in bulk (``manage.py seed_scale``), for the benchmarks of issue 13.

What a national installation looks like after some years: agencies of the real kinds on real
municipalities (the bundled ministry list), about four staff each, clients in households of one
to five (8050 households among them), cases opened over six years (the older ones closed, the
open ones a caseload each caseworker could carry), about six consultations per client, plans,
consents, referrals for one client in seven with the provision and confirmation records the
services write, supporters' visits, reminders and an access log of about three looks per client.

Rows go in through PostgreSQL ``COPY`` (psycopg 3, ``write_row``), generated in Python in chunks
of clients and written table by table in foreign-key order, inside one transaction with every
constraint checked: the foreign keys (deferred by Django) are made immediate so each ``COPY``
is checked when it ends instead of queueing millions of checks for the commit. Ids are given
explicitly (so rows of one chunk can point at each other) and the sequences are moved past them
at the end. A seeded ``random.Random`` makes every run on an empty database the same shape.

Not generated: audit entries (they describe changes made through the services, and none were),
meetings, councils, emergency disclosures and referral threads.
"""

from .seeder import ScaleSeeder

__all__ = ["ScaleSeeder"]
