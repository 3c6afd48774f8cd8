-- A company's place is one place wherever its name puts it: a
-- province-level division or prefecture-level city in brackets after the
-- name (燕京建设（北京）, 华为技术（深圳）), before it in full (北京市…,
-- 深圳市…) or short (clientele_customers::name::normalise_name). The
-- forms are computed by the application: blanking the normal form of
-- every name that is not plain ASCII (the only names the change can
-- touch) has them recomputed right after the migrations run.
UPDATE customers SET name_normalized = '' WHERE name GLOB '*[^ -~]*';
