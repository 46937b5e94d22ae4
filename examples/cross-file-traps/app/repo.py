import sqlite3


def list_items(conn: sqlite3.Connection, order_by: str):
    query = f"SELECT id, name, price FROM items ORDER BY {order_by}"
    return conn.execute(query).fetchall()


def connect():
    return sqlite3.connect("shop.db")
