"""The agency CSV's format (docs/agency-csv.md): its columns, and the fixed Japanese names the
export writes for kinds, operations and functions."""

from ..models import AgencyFunction, AgencyKind, Operation

# --- Agencies ----------------------------------------------------------------------------------

# The file's columns (docs/agency-csv.md). Column names are part of the file format, not of the
# interface, so they are not translated.
COL_ID = "機関ID"
COL_NAME = "名称"
COL_KANA = "名称カナ"
COL_KIND = "種別"
COL_MUNICIPALITY = "実施主体コード"
COL_OPERATION = "運営形態"
COL_CONTRACTOR = "受託法人名"
COL_SERVICE_AREA = "提供地域コード"
COL_FUNCTIONS = "機能"
COL_POSTAL_CODE = "郵便番号"
COL_ADDRESS = "住所"
COL_PHONE = "電話"
COL_EMAIL = "メール"
COL_OPENING_HOURS = "開所時間"
COL_PUBLIC_NOTE = "利用者向け案内"
COL_RECEIVES_REFERRALS = "つなぎ受付"
COL_ACTIVE_FROM = "開始日"
COL_ACTIVE_UNTIL = "終了日"

AGENCY_HEADER = (
    COL_ID,
    COL_NAME,
    COL_KANA,
    COL_KIND,
    COL_MUNICIPALITY,
    COL_OPERATION,
    COL_CONTRACTOR,
    COL_SERVICE_AREA,
    COL_FUNCTIONS,
    COL_POSTAL_CODE,
    COL_ADDRESS,
    COL_PHONE,
    COL_EMAIL,
    COL_OPENING_HOURS,
    COL_PUBLIC_NOTE,
    COL_RECEIVES_REFERRALS,
    COL_ACTIVE_FROM,
    COL_ACTIVE_UNTIL,
)

# Model field -> column, to name the column in the model's own validation messages.
_COLUMN_OF_FIELD = {
    "name": COL_NAME,
    "name_kana": COL_KANA,
    "kind": COL_KIND,
    "operation": COL_OPERATION,
    "contractor_name": COL_CONTRACTOR,
    "postal_code": COL_POSTAL_CODE,
    "address": COL_ADDRESS,
    "phone": COL_PHONE,
    "email": COL_EMAIL,
    "opening_hours": COL_OPENING_HOURS,
    "public_note": COL_PUBLIC_NOTE,
    "receives_referrals": COL_RECEIVES_REFERRALS,
    "active_from": COL_ACTIVE_FROM,
    "active_until": COL_ACTIVE_UNTIL,
}
# The fields an import writes, compared with the stored agency to tell an update from no change.
_AGENCY_FIELDS = (
    "name",
    "name_kana",
    "kind",
    "municipality_id",
    "operation",
    "contractor_name",
    "postal_code",
    "address",
    "phone",
    "email",
    "opening_hours",
    "public_note",
    "receives_referrals",
    "active_from",
    "active_until",
    "search_key",
)

# The Japanese names the export writes. They are fixed here, not read from the translation
# catalogue, so a file written today still imports after the catalogue's wording changes.
KIND_NAMES = {
    AgencyKind.SELF_RELIANCE: "自立相談支援機関",
    AgencyKind.HIKIKOMORI_CENTER: "ひきこもり地域支援センター",
    AgencyKind.HIKIKOMORI_STATION: "ひきこもり支援ステーション",
    AgencyKind.HIKIKOMORI_PROJECT: "ひきこもりサポート事業",
    AgencyKind.YOUTH_SUPPORT_STATION: "地域若者サポートステーション",
    AgencyKind.MENTAL_HEALTH_CENTER: "精神保健福祉センター",
    AgencyKind.PUBLIC_HEALTH_CENTER: "保健所",
    AgencyKind.SOCIAL_WELFARE_COUNCIL: "社会福祉協議会",
    AgencyKind.HELLO_WORK: "ハローワーク",
    AgencyKind.YOUTH_CONSULTATION_CENTER: "子ども・若者総合相談センター",
    AgencyKind.CONSUMER_CENTER: "消費生活センター",
    AgencyKind.EDUCATION: "教育機関",
    AgencyKind.MEDICAL: "医療機関",
    AgencyKind.NPO: "NPO・民間支援団体",
    AgencyKind.FAMILY_OR_PEER_GROUP: "家族会・当事者会",
    AgencyKind.WELFARE_COMMISSIONERS: "民生委員・児童委員協議会",
    AgencyKind.WORK_EXPERIENCE: "就労体験先",
    AgencyKind.OTHER: "その他",
}
OPERATION_NAMES = {Operation.DIRECT: "直営", Operation.CONTRACTED: "委託"}
FUNCTION_NAMES = {
    AgencyFunction.CONSULTATION: "相談支援",
    AgencyFunction.PLACE_TO_BE: "居場所づくり",
    AgencyFunction.NETWORKING: "地域のネットワークづくり",
    AgencyFunction.FAMILY_PEER_MEETINGS: "当事者会・家族会の開催",
    AgencyFunction.PUBLIC_AWARENESS: "住民への普及啓発",
    AgencyFunction.MULTIDISCIPLINARY_TEAM: "多職種専門チーム",
    AgencyFunction.MUNICIPAL_BACKUP: "市町村への後方支援",
    AgencyFunction.SELF_RELIANCE_CONSULTATION: "自立相談支援事業",
    AgencyFunction.WORK_PREPARATION: "就労準備支援事業",
    AgencyFunction.HOUSEHOLD_FINANCE: "家計改善支援事業",
    AgencyFunction.CERTIFIED_WORK_TRAINING: "認定就労訓練事業",
    AgencyFunction.HOUSING_BENEFIT: "住居確保給付金",
    AgencyFunction.CHILDREN_LEARNING: "子どもの学習・生活支援事業",
    AgencyFunction.HOUSING_SUPPORT: "居住支援事業",
}
_FUNCTION_ORDER = {function: index for index, function in enumerate(AgencyFunction)}
