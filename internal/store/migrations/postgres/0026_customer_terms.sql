-- SQLite keeps customer_terms (sqlite/0026_customer_terms.sql) because every
-- read's audit commit empties its readers' page caches. PostgreSQL's shared
-- buffers survive commits, so it checks a name search's candidates in
-- customers_search_probe (0024) and needs no derived table.
SELECT 1;
