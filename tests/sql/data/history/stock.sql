CREATE TABLE stock (stock_id INT PRIMARY KEY, sku STRING NOT NULL, warehouse STRING, qty INT) PARTITION BY (warehouse);
