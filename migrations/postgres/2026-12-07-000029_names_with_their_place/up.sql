-- A company's province-level place is one place wherever its name puts
-- it: in brackets after the name (燕京建设（北京）), before it in full
-- (北京市燕京建设) or short (clientele_customers::name::normalise_name).
-- The forms are computed by the application: blanking the normal form of
-- every name the change can touch (one with a bracket, or one that starts
-- with a province-level name, in either script) has them recomputed right
-- after the migrations run.
UPDATE customers SET name_normalized = ''
WHERE name LIKE '%(%' OR name LIKE '%（%'
   OR left(name, 2) IN ('北京', '天津', '河北', '山西', '内蒙', '辽宁', '吉林', '黑龙', '上海', '江苏', '浙江', '安徽', '福建', '江西', '山东', '河南', '湖北', '湖南', '广东', '广西', '海南', '重庆', '四川', '贵州', '云南', '西藏', '陕西', '甘肃', '青海', '宁夏', '新疆', '台湾', '香港', '澳门', '內蒙', '遼寧', '黑龍', '江蘇', '山東', '廣東', '廣西', '重慶', '貴州', '雲南', '陝西', '甘肅', '寧夏', '臺灣', '台灣', '澳門');
