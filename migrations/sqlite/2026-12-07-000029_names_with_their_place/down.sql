-- The schema is unchanged; the forms are blanked again, for the
-- application that runs the migrations next to recompute by its rules.
UPDATE customers SET name_normalized = ''
WHERE name LIKE '%(%' OR name LIKE '%（%'
   OR substr(name, 1, 2) IN ('北京', '天津', '河北', '山西', '内蒙', '辽宁', '吉林', '黑龙', '上海', '江苏', '浙江', '安徽', '福建', '江西', '山东', '河南', '湖北', '湖南', '广东', '广西', '海南', '重庆', '四川', '贵州', '云南', '西藏', '陕西', '甘肃', '青海', '宁夏', '新疆', '台湾', '香港', '澳门', '內蒙', '遼寧', '黑龍', '江蘇', '山東', '廣東', '廣西', '重慶', '貴州', '雲南', '陝西', '甘肅', '寧夏', '臺灣', '台灣', '澳門');
