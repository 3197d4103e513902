-- A short tour of rETL DB's SQL on the sample dataset (scripts/demo.sh runs
-- it when stdin is not a terminal; on a terminal it opens the REPL instead).
SHOW TABLES;
DESCRIBE customers;
-- Q1-Q7 of ../shared/WORKLOAD.md
SELECT count(*) FROM customers;
SELECT country, count(*), round(avg(ltv), 2) AS avg_ltv FROM customers GROUP BY country ORDER BY 2 DESC LIMIT 5;
SELECT plan, segment, sum(orders), max(churn_score) FROM customers
WHERE signup_date >= DATE '2024-01-01' GROUP BY plan, segment ORDER BY 3 DESC LIMIT 5;
SELECT count(DISTINCT country), count(DISTINCT segment) FROM customers;
SELECT customer_id, ltv FROM customers WHERE plan = 'pro' AND is_active ORDER BY ltv DESC NULLS LAST LIMIT 10;
SELECT region, plan, count(*), round(sum(ltv), 2), round(avg(orders), 2) FROM customers
WHERE country IN ('US', 'DE', 'FR') AND churn_score > 0.5 GROUP BY region, plan ORDER BY 1, 2 LIMIT 8;
SELECT count(*) FROM customers WHERE email LIKE '%example7%';
-- Q8: a point lookup through the email index
SELECT * FROM customers WHERE email = 'user123456@example72.com';
-- How the planner answers them
EXPLAIN SELECT * FROM customers WHERE email = 'user123456@example72.com';
EXPLAIN SELECT * FROM customers WHERE customer_id = 12345;
EXPLAIN ANALYZE SELECT plan, count(*) FROM customers WHERE region = 'western_europe' GROUP BY plan;
-- Time travel: the version before the last import
SHOW VERSIONS;
SELECT count(*) FROM customers AS OF VERSION 2;
