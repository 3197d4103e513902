CREATE TABLE orders (order_id BIGINT PRIMARY KEY, customer_id BIGINT, amount DECIMAL(10,2), status STRING, created_at TIMESTAMP, quantity SMALLINT);
