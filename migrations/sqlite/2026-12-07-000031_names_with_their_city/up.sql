-- A county-level city is a company's place too, as province-level
-- divisions and prefecture-level cities are since 000029 (精密电子（昆山）
-- is 昆山精密电子), and a place in brackets inside a name is one as well
-- as after it (西门子（上海）电气 is 上海西门子电气;
-- clientele_customers::name::normalise_name). Blanking the normal form of
-- every name that is not plain ASCII has the application recompute it
-- right after the migrations run.
UPDATE customers SET name_normalized = '' WHERE name GLOB '*[^ -~]*';
