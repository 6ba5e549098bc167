-- A database per service (run once, when the PostgreSQL volume is created).
CREATE DATABASE blossom_users;
CREATE DATABASE blossom_inventory;
CREATE DATABASE blossom_orders;
CREATE DATABASE blossom_payments;
CREATE DATABASE blossom_notifications;
