package lru

import "testing"

func TestCacheBudget(t *testing.T) {
	c := New[string, []byte](10, func(b []byte) int64 { return int64(len(b)) })
	c.Put("a", make([]byte, 4))
	c.Put("b", make([]byte, 4))
	if _, ok := c.Get("a"); !ok { // a is now the most recent
		t.Fatal("a dropped too early")
	}
	c.Put("c", make([]byte, 4)) // 12 > 10: b, the least recent, goes
	if _, ok := c.Get("b"); ok {
		t.Error("b kept past the budget")
	}
	if _, ok := c.Get("a"); !ok {
		t.Error("a dropped although used recently")
	}
	c.Put("huge", make([]byte, 11))
	if _, ok := c.Get("huge"); ok || c.Len() != 2 {
		t.Errorf("a value over the whole budget was kept (%d values)", c.Len())
	}
	c.Put("a", make([]byte, 1)) // replaced, weight updated
	c.Put("d", make([]byte, 5))
	if c.Len() != 3 {
		t.Errorf("%d values, want a, c, d", c.Len())
	}
	counted := New[int, string](2, nil)
	for i := range 5 {
		counted.Put(i, "x")
	}
	if _, ok := counted.Get(4); !ok || counted.Len() != 2 {
		t.Errorf("count budget: %d values", counted.Len())
	}
}
