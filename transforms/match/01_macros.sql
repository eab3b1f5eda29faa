-- Small helpers shared by the steps.
-- 'amount 12.00→13.00' when a field differs between two deliveries, else NULL.
CREATE OR REPLACE MACRO diff_field(name, old, new) AS
    CASE WHEN old IS DISTINCT FROM new
         THEN name || ' ' || coalesce(CAST(old AS VARCHAR), '∅') || '→' || coalesce(CAST(new AS VARCHAR), '∅') END;

-- 'file.csv:12 (2026-11-02)': where a delivered row came from.
CREATE OR REPLACE MACRO delivered_at(file_name, line_no, inbox_date) AS
    coalesce(file_name, '?') || ':' || coalesce(CAST(line_no AS VARCHAR), '?')
    || CASE WHEN inbox_date IS NULL THEN '' ELSE ' (inbox ' || strftime(inbox_date, '%Y-%m-%d') || ')' END;
