"""Value columns for generated drops, vectorised: valid USCC codes (GB 32100-2015) and personal ID numbers
(GB 11643-1999) with their check characters, dates and yuan amounts as the text a drop's CSV carries."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Districts for the birthplace part of ID numbers (real codes python-stdnum knows).
DISTRICTS = np.array([210102, 210103, 210104, 210202, 210203, 210204, 210302, 210402, 210502, 210602, 210711, 210802,
                      210902, 211002, 211102, 211202, 211302, 211402, 150102, 150202, 152201, 130102, 370102, 220102])  # fmt: skip
USCC_ALPHABET = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])


def uscc_codes(region: np.ndarray, serial: np.ndarray) -> pa.Array:
    """Valid GB 32100-2015 codes: '91' + region + a 9-digit organisation code + the check character."""
    body = np.zeros((len(region), 17), dtype=np.int64)
    body[:, 0], body[:, 1] = 9, 1
    for i in range(6):
        body[:, 2 + i] = region // 10 ** (5 - i) % 10
    for i in range(9):
        body[:, 8 + i] = serial // 10 ** (8 - i) % 10
    check = (31 - (body * USCC_WEIGHTS).sum(axis=1) % 31) % 31
    chars = np.concatenate([body.astype("U1"), USCC_ALPHABET[check][:, None]], axis=1)
    return pa.array(chars.view(f"<U{chars.shape[1]}").ravel())


def person_ids(k: np.ndarray) -> pa.Array:
    """Unique valid GB 11643-1999 numbers from an index: district, birth date, sequence, check character."""
    nd = len(DISTRICTS)
    district = DISTRICTS[k % nd]
    birth = np.datetime64("1958-01-01") + (k // nd // 1000 % 15000).astype("timedelta64[D]")
    ymd_num = ymd_numbers(birth)
    seq = k // nd % 1000
    body = np.zeros((len(k), 17), dtype=np.int64)
    for i in range(6):
        body[:, i] = district // 10 ** (5 - i) % 10
    for i in range(8):
        body[:, 6 + i] = ymd_num // 10 ** (7 - i) % 10
    for i in range(3):
        body[:, 14 + i] = seq // 10 ** (2 - i) % 10
    check = np.array(list("10X98765432"))[(body * ID_WEIGHTS).sum(axis=1) % 11]
    chars = np.concatenate([body.astype("U1"), check[:, None]], axis=1)
    return pa.array(chars.view("<U18").ravel())


def ymd_numbers(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> YYYYMMDD integers."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year * 10000 + month * 100 + day


def datestr(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(days.astype("datetime64[D]"), mask=mask)
    return pc.strftime(arr, format="%Y-%m-%d")


def yuan(fen: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    ints = pc.cast(pa.array(fen // 100), pa.string())
    cents = pc.utf8_lpad(pc.cast(pa.array(fen % 100), pa.string()), width=2, padding="0")
    out = pc.binary_join_element_wise(ints, cents, ".")
    return out if mask is None else pc.if_else(pa.array(mask), pa.nulls(len(fen), pa.string()), out)
