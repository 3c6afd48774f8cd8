-- A county is a company's place too, as cities are since 000031 and
-- autonomous prefectures since 000033 (安吉县绿色家居 is 安吉绿色家居, and
-- 绿色家居（安吉）the same; 长阳土家族自治县 is 长阳; clientele_customers::
-- name::normalise_name). Blanking the normal form of every name that is
-- not plain ASCII has the application recompute it right after the
-- migrations run.
UPDATE customers SET name_normalized = '' WHERE name GLOB '*[^ -~]*';
