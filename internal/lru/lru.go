package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values, dropping the least recently used values once
// the sum of their weights passes the budget. It is safe for concurrent
// use. A value heavier than the whole budget is not kept.
type Cache[K comparable, V any] struct {
	mu     sync.Mutex
	budget int64
	used   int64
	weight func(V) int64
	order  *list.List // front: most recently used
	items  map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key    K
	value  V
	weight int64
}

// New makes a cache of at most budget total weight; weight gives a value's
// (nil: every value weighs 1, the budget is a count).
func New[K comparable, V any](budget int64, weight func(V) int64) *Cache[K, V] {
	if weight == nil {
		weight = func(V) int64 { return 1 }
	}
	return &Cache[K, V]{budget: budget, weight: weight, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value of key and whether there is one.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*entry[K, V]).value, true
	}
	var zero V
	return zero, false
}

// Put sets the value of key.
func (c *Cache[K, V]) Put(key K, value V) {
	w := c.weight(value)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.remove(e)
	}
	if w > c.budget {
		return
	}
	c.items[key] = c.order.PushFront(&entry[K, V]{key: key, value: value, weight: w})
	c.used += w
	for c.used > c.budget {
		c.remove(c.order.Back())
	}
}

func (c *Cache[K, V]) remove(e *list.Element) {
	en := c.order.Remove(e).(*entry[K, V])
	delete(c.items, en.key)
	c.used -= en.weight
}

// Len is the number of values kept.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
