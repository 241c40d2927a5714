-- Reads: ref_enum
-- Makes: date_digits, duplicate_uscc_lines, fold_name, list_distinct_ordered, month_digits, ok_account, ok_bool,
--        ok_cnaps, ok_count,
--        ok_date, ok_enum, ok_industry, ok_money, ok_month, ok_person_id, ok_person_id_n, ok_ratio, ok_region,
--        ok_signed_money, ok_text, ok_uscc, ok_year, person_id_check, person_id_sum, person_key, premium_months_fen,
--        to_account, to_bool, to_cnaps, to_count, to_date, to_enum, to_industry, to_money, to_month, to_person_id, to_ratio,
--        to_region, to_signed_money, to_text, to_uscc, to_year, uscc_digit, yuan
-- the macros every staging step uses to check (ok_<kind>) and parse (to_<kind>)
-- one CSV cell; a cell arrives trimmed and non-empty (empty cells are NULL and checked for presence apart).

-- GB 32100-2015 统一社会信用代码: 18 characters, the first 8 digits, check digit = (31 - Σ cᵢ·wᵢ mod 31) mod 31.
CREATE OR REPLACE MACRO uscc_digit(s, i) AS
    instr('0123456789ABCDEFGHJKLMNPQRTUWXY', s[i]) - 1;
CREATE OR REPLACE MACRO to_uscc(s) AS upper(replace(s, ' ', ''));
CREATE OR REPLACE MACRO ok_uscc(s) AS
    regexp_full_match(to_uscc(s), '[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}')
    AND '0123456789ABCDEFGHJKLMNPQRTUWXY'[((31 - ((uscc_digit(s, 1) * 1 + uscc_digit(s, 2) * 3 + uscc_digit(s, 3) * 9 + uscc_digit(s, 4) * 27 + uscc_digit(s, 5) * 19 + uscc_digit(s, 6) * 26 + uscc_digit(s, 7) * 16 + uscc_digit(s, 8) * 17 + uscc_digit(s, 9) * 20 + uscc_digit(s, 10) * 29 + uscc_digit(s, 11) * 25 + uscc_digit(s, 12) * 13 + uscc_digit(s, 13) * 8 + uscc_digit(s, 14) * 24 + uscc_digit(s, 15) * 10 + uscc_digit(s, 16) * 30 + uscc_digit(s, 17) * 28) % 31)) % 31) + 1]
        = to_uscc(s)[18];

-- GB 11643-1999 公民身份号码: 17 digits and an ISO 7064 MOD 11-2 check character; the birth date must exist.
-- The birthplace (first 6 digits) is only warned on: district codes change over time.
-- Upper case and no spaces; a value with no space and no lower-case x at its end is kept as it is (upper() and
-- replace() copy every string: 7.8 million of them): a lower-case letter anywhere else makes it invalid either way.
CREATE OR REPLACE MACRO to_person_id(s) AS
    CASE WHEN strpos(s, ' ') = 0 AND s[18] <> 'x' THEN s ELSE upper(replace(s, ' ', '')) END;
-- The 17 digits as one integer n; digit i (from the left) is n // 10^(17-i) % 10, weight 2^(18-i) mod 11.
CREATE OR REPLACE MACRO person_id_sum(n) AS (n // 10000000000000000 % 10 * 7 + n // 1000000000000000 % 10 * 9 + n // 100000000000000 % 10 * 10 + n // 10000000000000 % 10 * 5 + n // 1000000000000 % 10 * 8 + n // 100000000000 % 10 * 4 + n // 10000000000 % 10 * 2 + n // 1000000000 % 10 * 1 + n // 100000000 % 10 * 6 + n // 10000000 % 10 * 3 + n // 1000000 % 10 * 7 + n // 100000 % 10 * 9 + n // 10000 % 10 * 10 + n // 1000 % 10 * 5 + n // 100 % 10 * 8 + n // 10 % 10 * 4 + n // 1 % 10 * 2) % 11;
-- person_key(p): the 17 digits as one integer. Of a checked ID number the 18th character follows from them: the
-- key is the number's, and the staged files keep it (person_key) to group persons on an integer rather than on
-- their text (29_person_counts.sql: 2.4 s against 3.3 s for 7.8 million spells, issue 13).
CREATE OR REPLACE MACRO person_key(p) AS TRY_CAST(p[1:17] AS BIGINT);
CREATE OR REPLACE MACRO person_id_check(s) AS '10X98765432'[person_id_sum(person_key(s)) + 1];
-- ok_person_id_n takes the value already normalised by to_person_id (the check expands its argument 17 times).
-- The check digit comes first: DuckDB evaluates it over all rows at once there, but row by row after an AND (4x slower).
CREATE OR REPLACE MACRO ok_person_id_n(p) AS
    coalesce(person_id_check(p) = p[18], false)
    AND regexp_full_match(p, '[0-9]{17}[0-9X]')
    AND try_strptime(p[7:14], '%Y%m%d') IS NOT NULL;
CREATE OR REPLACE MACRO ok_person_id(s) AS ok_person_id_n(to_person_id(s));

CREATE OR REPLACE MACRO ok_text(s) AS CASE WHEN s IS NOT NULL THEN true END;  -- empty: NULL, refused where required
CREATE OR REPLACE MACRO to_text(s) AS s;

CREATE OR REPLACE MACRO ok_region(s) AS regexp_full_match(s, '[0-9]{6}');
CREATE OR REPLACE MACRO to_region(s) AS s;

-- GB/T 4754-2017 行业代码: a section letter and 2 to 4 digits, e.g. C3110.
CREATE OR REPLACE MACRO ok_industry(s) AS regexp_full_match(upper(s), '[A-T][0-9]{2,4}');
CREATE OR REPLACE MACRO to_industry(s) AS upper(s);

CREATE OR REPLACE MACRO ok_count(s) AS regexp_full_match(s, '[0-9]{1,12}');
-- The to_<kind> parsers use TRY_CAST: DuckDB may compute them for a whole column before ok_<kind> has picked
-- the well-formed cells, and a malformed cell (e.g. '1,234.50') must end in quarantine, never in an error.
CREATE OR REPLACE MACRO to_count(s) AS TRY_CAST(s AS BIGINT);

CREATE OR REPLACE MACRO ok_year(s) AS regexp_full_match(s, '(19|20)[0-9]{2}');
CREATE OR REPLACE MACRO to_year(s) AS TRY_CAST(s AS INTEGER);

-- Money: yuan with at most 2 decimals, kept as integer fen from here to the payment file.
CREATE OR REPLACE MACRO ok_money(s) AS regexp_full_match(s, '[0-9]{1,14}(\.[0-9]{1,2})?');
CREATE OR REPLACE MACRO to_money(s) AS CAST(TRY_CAST(s AS DECIMAL(18, 2)) * 100 AS BIGINT);
CREATE OR REPLACE MACRO ok_signed_money(s) AS regexp_full_match(s, '-?[0-9]{1,14}(\.[0-9]{1,2})?');
CREATE OR REPLACE MACRO to_signed_money(s) AS CAST(TRY_CAST(s AS DECIMAL(18, 2)) * 100 AS BIGINT);

CREATE OR REPLACE MACRO ok_account(s) AS regexp_full_match(s, '[0-9]{6,32}');
CREATE OR REPLACE MACRO to_account(s) AS s;
CREATE OR REPLACE MACRO ok_cnaps(s) AS regexp_full_match(s, '[0-9]{12}');
CREATE OR REPLACE MACRO to_cnaps(s) AS s;

-- Dates: YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD, and a day that exists.
CREATE OR REPLACE MACRO date_digits(s) AS
    CASE WHEN regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}/[0-9]{2}/[0-9]{2}|[0-9]{8}')
         THEN replace(replace(s, '-', ''), '/', '') END;
CREATE OR REPLACE MACRO to_date(s) AS CAST(try_strptime(date_digits(s), '%Y%m%d') AS DATE);
CREATE OR REPLACE MACRO ok_date(s) AS to_date(s) IS NOT NULL;

-- Fee months: YYYY-MM or YYYYMM, month 01 to 12; kept as the first day of the month.
CREATE OR REPLACE MACRO month_digits(s) AS
    CASE WHEN regexp_full_match(s, '[0-9]{4}-?(0[1-9]|1[0-2])') THEN replace(s, '-', '') END;
CREATE OR REPLACE MACRO to_month(s) AS CAST(try_strptime(month_digits(s) || '01', '%Y%m%d') AS DATE);
CREATE OR REPLACE MACRO ok_month(s) AS to_month(s) IS NOT NULL;

CREATE OR REPLACE MACRO ok_bool(s) AS lower(s) IN ('true', 'false', '1', '0', 'yes', 'no', 'y', 'n', '是', '否');
CREATE OR REPLACE MACRO to_bool(s) AS lower(s) IN ('true', '1', 'yes', 'y', '是');

-- A ratio in [0, 1] with at most 8 decimals (e.g. a registered unemployment rate 0.042).
CREATE OR REPLACE MACRO ok_ratio(s) AS
    regexp_full_match(s, '0(\.[0-9]{1,8})?|1(\.0{1,8})?|\.[0-9]{1,8}');
CREATE OR REPLACE MACRO to_ratio(s) AS TRY_CAST(s AS DECIMAL(12, 8));

-- Enums take the English name or the Chinese alias (table ref_enum, from transforms/schema.py).
CREATE OR REPLACE MACRO to_enum(field_name, s) AS
    (SELECT e.value FROM ref_enum e WHERE e.field = field_name AND e.raw = lower(s));
CREATE OR REPLACE MACRO ok_enum(field_name, s) AS to_enum(field_name, s) IS NOT NULL;

-- A file that must give a USCC once (the unit register; contribution_accounts.csv, one account per unit): a USCC on
-- two or more lines of table tbl is ambiguous, so every such line is quarantined (which is right cannot be known).
-- One row per such USCC, with the reason: 'appears on <n> lines<lines_of> (lines <a, b, …>): <rule>'.
CREATE OR REPLACE MACRO duplicate_uscc_lines(tbl, lines_of, rule) AS TABLE
    SELECT uscc, 'appears on ' || count(*) || ' lines' || lines_of || ' (lines '
                 || string_agg(CAST(line AS VARCHAR), ', ' ORDER BY line) || '): ' || rule AS reason
    FROM query_table(tbl)
    -- the repeated USCCs found first: the ordered list of lines is built for those alone (an UPDATE joined to the
    -- aggregate over every USCC took 0.7 s for 300,000 units, almost none of them repeated)
    WHERE uscc IN (SELECT uscc FROM query_table(tbl) WHERE uscc IS NOT NULL GROUP BY uscc HAVING count(*) > 1)
    GROUP BY uscc;

-- Yuan text with 2 decimals from integer fen, for files people read.
CREATE OR REPLACE MACRO yuan(fen) AS
    CASE WHEN fen < 0 THEN '-' ELSE '' END
    || CAST(abs(fen) // 100 AS VARCHAR) || '.' || lpad(CAST(abs(fen) % 100 AS VARCHAR), 2, '0');

-- Account names compare after trimming and folding full-width forms to half-width (（）→ (), Ａ → A, 　→ space).
-- translate() is costly per call: only a name holding a full-width character (U+FF01 to U+FF5E, U+3000) is translated.
CREATE OR REPLACE MACRO fold_name(s) AS trim(CASE WHEN regexp_matches(s, '[！-～　]') THEN translate(s, '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ') ELSE s END);

-- The distinct elements of a list, in their first order (list_distinct does not keep order).
CREATE OR REPLACE MACRO list_distinct_ordered(xs) AS
    list_filter(xs, lambda x, i: x IS NOT NULL AND x <> '' AND list_position(xs, x) = i);

-- 内蒙古工作方案 二(二) "或按不超过3个月的企业及其职工应缴纳社会保险费确定": alt_months × the unit's average monthly
-- social-insurance premium due (due_total fen over due_months fee months), floored to the fen; NULL where the policy
-- has no such standard or the unit no premium due on file (sql/32_si_premiums.sql).
CREATE OR REPLACE MACRO premium_months_fen(alt_months, due_total, due_months) AS
    CASE WHEN alt_months IS NOT NULL AND due_months > 0 THEN CAST((alt_months * due_total) // due_months AS BIGINT) END;
