package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/url"
	"sync"
	"time"
)

var ErrInvalidURL = errors.New("webhook url must be an absolute http(s) url")

type Event struct {
	Type      string    `json:"type"`
	NoteID    int64     `json:"note_id,omitempty"`
	Title     string    `json:"title,omitempty"`
	Timestamp time.Time `json:"timestamp"`
}

type Result struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

type job struct {
	url   string
	event Event
}

type Dispatcher struct {
	client  *http.Client
	queue   chan job
	wg      sync.WaitGroup
	retries int
}

func NewDispatcher(timeout time.Duration) *Dispatcher {
	d := &Dispatcher{
		client:  &http.Client{Timeout: timeout},
		queue:   make(chan job, 256),
		retries: 4,
	}
	d.wg.Add(1)
	go d.run()
	return d
}

func (d *Dispatcher) Enqueue(target string, ev Event) {
	select {
	case d.queue <- job{url: target, event: ev}:
	default:
		log.Printf("webhook: queue full, dropping %s event for note %d", ev.Type, ev.NoteID)
	}
}

func (d *Dispatcher) Close() {
	close(d.queue)
	d.wg.Wait()
}

func (d *Dispatcher) run() {
	defer d.wg.Done()
	for j := range d.queue {
		for attempt := 0; ; attempt++ {
			res, err := d.post(context.Background(), j.url, j.event)
			if err == nil && res.Status < 500 {
				break
			}
			if attempt == d.retries {
				log.Printf("webhook: giving up on %s event for note %d: status=%d err=%v", j.event.Type, j.event.NoteID, res.Status, err)
				break
			}
			time.Sleep(backoff(attempt))
		}
	}
}

func ValidateURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", ErrInvalidURL
	}
	return u.String(), nil
}

func (d *Dispatcher) Test(ctx context.Context, target string) (Result, error) {
	return d.post(ctx, target, Event{Type: "ping", Timestamp: time.Now().UTC()})
}

func (d *Dispatcher) post(ctx context.Context, target string, ev Event) (Result, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "notesd-webhook/1.0")
	resp, err := d.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("deliver webhook: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return Result{Status: resp.StatusCode, Body: string(body)}, nil
}

func backoff(attempt int) time.Duration {
	base := time.Duration(1<<attempt) * 250 * time.Millisecond
	jitter := time.Duration(rand.Int63n(int64(base / 2)))
	return base + jitter
}
