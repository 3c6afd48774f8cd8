-- An autonomous prefecture, a league or an area is a company's place too,
-- as cities are since 000031 (长白山旅游（延边）is 延边长白山旅游, and
-- 延边朝鲜族自治州长白山旅游 the same; clientele_customers::name::
-- normalise_name). Blanking the normal form of every name that is not
-- plain ASCII has the application recompute it right after the migrations
-- run.
UPDATE customers SET name_normalized = '' WHERE name GLOB '*[^ -~]*';
