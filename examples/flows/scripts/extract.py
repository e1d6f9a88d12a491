import json


def main(day: str, rows: int = 5):
    """Pretends to read the day's orders from a source system."""
    print(f"extracting {rows} rows for {day}")
    return [{"id": i, "amount": round(i * 12.5, 2), "day": day} for i in range(rows)]
