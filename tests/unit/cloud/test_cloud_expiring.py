from cloud.expiring import ExpiringMap


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_values_expire() -> None:
    clock = Clock()
    values: ExpiringMap[str] = ExpiringMap(60, clock)
    key = values.add("grant")

    clock.now = 59.9
    assert values.get(key) == "grant"

    clock.now = 60
    assert values.get(key) is None
    assert len(values) == 0


def test_take_is_single_use() -> None:
    values: ExpiringMap[str] = ExpiringMap(60, Clock())
    key = values.add("grant")

    assert values.take(key) == "grant"
    assert values.take(key) is None


def test_keys_are_unguessable_and_distinct() -> None:
    values: ExpiringMap[int] = ExpiringMap(60, Clock())
    keys = {values.add(n) for n in range(100)}

    assert len(keys) == 100
    assert all(len(key) >= 43 for key in keys)
