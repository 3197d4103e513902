-- Golden dataset for format version 1: the reference customers table with
-- explicit types, including DECIMAL and a composite-free BIGINT key.
CREATE TABLE customers (
  customer_id BIGINT PRIMARY KEY,
  email TEXT NOT NULL,
  country VARCHAR(2),
  region TEXT,
  plan TEXT,
  signup_date DATE,
  last_seen TIMESTAMP,
  ltv DECIMAL(12, 2),
  orders INT,
  churn_score DOUBLE,
  segment SMALLINT,
  is_active BOOLEAN
) PARTITION BY (region);
