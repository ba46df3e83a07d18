"""Imports and exports: the ministry's municipality list and our agency CSV (docs/agency-csv.md).

Both imports check the whole file before writing anything. One bad row means nothing is written
and the report lists every bad row with its line, so the office fixes the file once and uploads
it again. A clean file is written in one transaction with bulk queries (a dict of the existing
rows, never one query per row) and one audit entry; running it again writes nothing.

One module per subject: ``municipalities`` (the ministry's list), ``agency_format`` (the agency
CSV's columns and fixed names), ``agency_rows`` (reading and checking its rows) and
``agencies`` (its import and export); ``common`` holds the report, the permission check and the
CSV writer both use. Reading and decoding a CSV file is ``agencies.municipality_list``. Import
from ``agencies.imports``.
"""

from .agencies import agencies_export, agencies_import
from .agency_format import (
    AGENCY_HEADER,
    COL_ACTIVE_FROM,
    COL_ACTIVE_UNTIL,
    COL_ADDRESS,
    COL_CONTRACTOR,
    COL_EMAIL,
    COL_FUNCTIONS,
    COL_ID,
    COL_KANA,
    COL_KIND,
    COL_MUNICIPALITY,
    COL_NAME,
    COL_OPENING_HOURS,
    COL_OPERATION,
    COL_PHONE,
    COL_POSTAL_CODE,
    COL_PUBLIC_NOTE,
    COL_RECEIVES_REFERRALS,
    COL_SERVICE_AREA,
    FUNCTION_NAMES,
    KIND_NAMES,
    OPERATION_NAMES,
)
from .common import BATCH_SIZE, ImportReport
from .municipalities import municipalities_export, municipalities_import

__all__ = [
    "AGENCY_HEADER",
    "BATCH_SIZE",
    "COL_ACTIVE_FROM",
    "COL_ACTIVE_UNTIL",
    "COL_ADDRESS",
    "COL_CONTRACTOR",
    "COL_EMAIL",
    "COL_FUNCTIONS",
    "COL_ID",
    "COL_KANA",
    "COL_KIND",
    "COL_MUNICIPALITY",
    "COL_NAME",
    "COL_OPENING_HOURS",
    "COL_OPERATION",
    "COL_PHONE",
    "COL_POSTAL_CODE",
    "COL_PUBLIC_NOTE",
    "COL_RECEIVES_REFERRALS",
    "COL_SERVICE_AREA",
    "FUNCTION_NAMES",
    "KIND_NAMES",
    "OPERATION_NAMES",
    "ImportReport",
    "agencies_export",
    "agencies_import",
    "municipalities_export",
    "municipalities_import",
]
