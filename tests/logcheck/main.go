// logcheck verifies an opencase public log over HTTP with Go's own
// implementations of signed notes (golang.org/x/mod/sumdb/note) and of
// transparency-log trees and tiles (golang.org/x/mod/sumdb/tlog), so that
// the log is checked by code that shares nothing with the server's.
//
// Usage: logcheck -url http://127.0.0.1:8080 -key VERIFIER [-old CHECKPOINT_FILE]
//
// It opens the latest checkpoint with the verifier key, reads every hash
// tile and entry bundle the tree needs (tlog.TileHashReader checks each tile
// against the signed root), recomputes the root, checks an inclusion proof
// for every entry, both computed from the tiles and as the server serves it,
// and, with -old, checks that the older checkpoint is a prefix of the latest.
// It prints a JSON summary with the entries and exits 1 on any failure.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "logcheck: "+format+"\n", args...)
	os.Exit(1)
}

func get(base, path string) ([]byte, int) {
	resp, err := http.Get(base + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	return body, resp.StatusCode
}

func openCheckpoint(msg []byte, verifier note.Verifier) checkpoint {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("the checkpoint does not verify: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		fail("the checkpoint is not origin, size and root: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		fail("the checkpoint's size %q is not a number", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("the checkpoint's root %q is not a base64 SHA-256 hash", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	return checkpoint{origin: lines[0], size: size, root: root}
}

// tiles reads C2SP tlog-tiles paths: Go's "tile/8/L/N" is "tile/L/N" there,
// and its data tiles "tile/8/data/N" are "tile/entries/N".
type tiles struct {
	base    string
	fetched int
}

func c2spPath(t tlog.Tile) string {
	p := t.Path()
	p = strings.Replace(p, "tile/8/data/", "tile/entries/", 1)
	return strings.Replace(p, "tile/8/", "tile/", 1)
}

func (r *tiles) Height() int { return 8 }

func (r *tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		body, status := get(r.base, "/log/"+c2spPath(t))
		if status != 200 {
			return nil, fmt.Errorf("%s: status %d", c2spPath(t), status)
		}
		out[i] = body
		r.fetched++
	}
	return out, nil
}

func (r *tiles) SaveTiles(ts []tlog.Tile, data [][]byte) {}

func b64hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			fail("a proof hash %q is not a base64 SHA-256 hash", s)
		}
		copy(out[i][:], raw)
	}
	return out
}

func sameProof(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func main() {
	base := flag.String("url", "", "the server, e.g. http://127.0.0.1:8080")
	key := flag.String("key", "", "the log's verifier key (opencase log key)")
	old := flag.String("old", "", "a file with an earlier checkpoint to check as a prefix")
	flag.Parse()
	verifier, err := note.NewVerifier(*key)
	if err != nil {
		fail("the verifier key: %v", err)
	}
	msg, status := get(*base, "/log/checkpoint")
	if status != 200 {
		fail("GET /log/checkpoint: status %d", status)
	}
	cp := openCheckpoint(msg, verifier)
	if cp.origin != verifier.Name() {
		fail("the checkpoint's origin %q is not the key's name %q", cp.origin, verifier.Name())
	}
	tr := &tiles{base: *base}
	tree := tlog.Tree{N: cp.size, Hash: cp.root}
	hr := tlog.TileHashReader(tree, tr)
	if cp.size > 0 {
		root, err := tlog.TreeHash(cp.size, hr)
		if err != nil || root != cp.root {
			fail("the root from the tiles does not match the checkpoint: %v", err)
		}
	}

	// Every entry, from the entry bundles, with its inclusion proofs.
	var entries []json.RawMessage
	for start := int64(0); start < cp.size; start += 256 {
		width := cp.size - start
		if width > 256 {
			width = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: start / 256, W: int(width)}
		body, status := get(*base, "/log/"+c2spPath(t))
		if status != 200 {
			fail("GET %s: status %d", c2spPath(t), status)
		}
		for i := int64(0); i < width; i++ {
			if len(body) < 2 {
				fail("the bundle %s ends early", c2spPath(t))
			}
			n := int(binary.BigEndian.Uint16(body))
			if len(body) < 2+n {
				fail("the bundle %s ends inside an entry", c2spPath(t))
			}
			data := body[2 : 2+n]
			body = body[2+n:]
			index := start + i
			leaf := tlog.RecordHash(data)
			proof, err := tlog.ProveRecord(cp.size, index, hr)
			if err != nil {
				fail("proving entry %d from the tiles: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, cp.size, cp.root, index, leaf); err != nil {
				fail("entry %d is not in the signed tree: %v", index, err)
			}
			var served struct {
				Index    int64    `json:"index"`
				Size     int64    `json:"size"`
				LeafHash string   `json:"leaf_hash"`
				Proof    []string `json:"proof"`
			}
			body2, status := get(*base, fmt.Sprintf("/log/proof/inclusion?index=%d&size=%d", index, cp.size))
			if status != 200 || json.Unmarshal(body2, &served) != nil {
				fail("GET the inclusion proof of %d: status %d", index, status)
			}
			if got := b64hashes([]string{served.LeafHash})[0]; got != leaf {
				fail("the served leaf hash of entry %d is not the bundle's", index)
			}
			sp := b64hashes(served.Proof)
			if err := tlog.CheckRecord(sp, cp.size, cp.root, index, leaf); err != nil {
				fail("the served inclusion proof of entry %d does not verify: %v", index, err)
			}
			if !sameProof(sp, proof) {
				fail("the served inclusion proof of entry %d differs from the tiles'", index)
			}
			if !json.Valid(data) {
				fail("entry %d is not JSON", index)
			}
			entries = append(entries, json.RawMessage(data))
		}
		if len(body) != 0 {
			fail("the bundle %s holds more than %d entries", c2spPath(t), width)
		}
	}

	consistent := false
	if *old != "" {
		text, err := os.ReadFile(*old)
		if err != nil {
			fail("reading %s: %v", *old, err)
		}
		prev := openCheckpoint(text, verifier)
		body, status := get(*base, fmt.Sprintf("/log/proof/consistency?from=%d&to=%d", prev.size, cp.size))
		var served struct {
			Proof []string `json:"proof"`
		}
		if status != 200 || json.Unmarshal(body, &served) != nil {
			fail("GET the consistency proof: status %d", status)
		}
		sp := b64hashes(served.Proof)
		if err := tlog.CheckTree(sp, cp.size, cp.root, prev.size, prev.root); err != nil {
			fail("the older checkpoint is not a prefix of the latest: %v", err)
		}
		mine, err := tlog.ProveTree(cp.size, prev.size, hr)
		if err != nil || !sameProof(mine, sp) {
			fail("the served consistency proof differs from the tiles': %v", err)
		}
		consistent = true
	}
	out, _ := json.Marshal(map[string]interface{}{
		"origin": cp.origin, "size": cp.size, "tiles_read": tr.fetched,
		"consistent_with_old": consistent, "entries": entries,
	})
	var pretty bytes.Buffer
	pretty.Write(out)
	pretty.WriteByte('\n')
	os.Stdout.Write(pretty.Bytes())
}
