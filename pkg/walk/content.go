package walk

import (
	"bytes"
	"io"
	"path"
)

// file is a piece of content being scanned: a regular file of the layer,
// or a member of an archive nested in one.
type file struct {
	idx   int      // the outer file's index among the layer's entries
	path  string   // the outer file's path
	chain []string // member paths inside nested archives; nil for the outer file
	name  string   // the base name archives are recognised by
	depth int      // archives entered to reach this content
	cut   bool     // only part of the content is scanned (MaxFileSize)
}

func (f *file) child(member string) *file {
	chain := make([]string, len(f.chain), len(f.chain)+1)
	copy(chain, f.chain)
	return &file{idx: f.idx, path: f.path, chain: append(chain, member), name: path.Base(member), depth: f.depth + 1}
}

// readFile scans a regular file of the layer.
func (w *layerWalker) readFile(r io.Reader, idx int) error {
	e := &w.res.Entries[idx]
	return w.scanStream(r, &file{idx: idx, path: e.Path, name: path.Base(e.Path)}, e.Size)
}

// capture reads a file picked by Options.Capture whole, hands it to
// Options.Captured, then scans it from memory like any other file.
func (w *layerWalker) capture(r io.Reader, idx int) error {
	e := &w.res.Entries[idx]
	if e.Size > w.opts.MaxCaptureSize {
		w.fileWarn(&file{idx: idx, path: e.Path}, "%d bytes: more than %d, not read as a package database", e.Size, w.opts.MaxCaptureSize)
		return w.readFile(r, idx)
	}
	data := make([]byte, e.Size)
	if _, err := io.ReadFull(r, data); err != nil {
		return err
	}
	if w.opts.Captured != nil {
		w.opts.Captured(w.res.Index, idx, e, data)
	}
	return w.readFile(bytes.NewReader(data), idx)
}

// setDigests records the digests the walker computed of a layer file.
func (w *layerWalker) setDigests(idx int, d Digests) {
	if w.res.Digests == nil {
		w.res.Digests = map[int]Digests{}
	}
	w.res.Digests[idx] = d
}

// scanStream reads the first chunk of some content, lets Accept look at
// it, then opens it as an archive, extracts its strings (binaries) or cuts
// it into chunks for the workers. size is the content's length, or -1
// when unknown. The error is the reader's (or a cancelled context); what
// goes wrong inside an archive is a warning.
func (w *layerWalker) scanStream(r io.Reader, f *file, size int64) error {
	bp := w.pool.Get().(*[]byte)
	want := w.opts.ChunkSize
	if size >= 0 && size < int64(want) {
		want = int(size)
	}
	b := (*bp)[:want]
	n, err := io.ReadFull(r, b)
	b = b[:n]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if size >= 0 {
			w.pool.Put(bp)
			return io.ErrUnexpectedEOF
		}
		err = nil
		size = int64(n)
	}
	if err != nil {
		w.pool.Put(bp)
		return err
	}
	if !w.accept(f, b) {
		w.pool.Put(bp)
		return nil // the reader's owner skips the rest
	}
	if f.chain == nil {
		w.res.Files++
	}
	if kind := archiveKind(f.name, b); kind != notArchive && w.opts.Archives.MaxDepth > 0 {
		if f.depth < w.opts.Archives.MaxDepth {
			defer w.pool.Put(bp)
			if f.chain != nil || size < 0 {
				return w.openArchive(kind, io.MultiReader(bytes.NewReader(b), r), f, size)
			}
			// A file of the layer: hash it on the way (its package may
			// record a digest), reading to its end.
			hr := &hashingReader{r: io.MultiReader(bytes.NewReader(b), r), h: newHasher()}
			if err := w.openArchive(kind, hr, f, size); err != nil {
				return err
			}
			if _, err := io.Copy(io.Discard, hr); err != nil {
				return err
			}
			if hr.h.n == size {
				w.setDigests(f.idx, hr.h.sum())
			}
			return nil
		}
		w.fileWarn(f, "nested archive deeper than --archive-depth %d: not opened", w.opts.Archives.MaxDepth)
	}

	// The content proper: bounded by MaxFileSize.
	remaining := int64(-1) // bytes after b, -1: unknown
	if size >= 0 {
		remaining = size - int64(len(b))
	}
	if max := w.opts.MaxFileSize; max > 0 {
		switch {
		case int64(len(b)) >= max:
			if size < 0 || size > max {
				w.truncated(f, size)
			}
			b, remaining = b[:max], 0
		case remaining >= 0 && int64(len(b))+remaining > max:
			w.truncated(f, size)
			remaining = max - int64(len(b))
		case remaining < 0:
			r = io.LimitReader(r, max-int64(len(b)))
		}
	}
	mode := w.opts.Binaries
	if mode == BinarySkip || mode == BinaryStrings {
		if IsBinary(b) {
			if mode == BinarySkip {
				w.pool.Put(bp)
				return nil
			}
			defer w.pool.Put(bp)
			var rest io.Reader = r
			if remaining >= 0 {
				rest = io.LimitReader(r, remaining)
			}
			return w.emitFrom(newStringsReader(io.MultiReader(bytes.NewReader(b), rest)), f, -1, true)
		}
	}
	return w.emit(r, f, bp, b, remaining, false)
}

func (w *layerWalker) truncated(f *file, size int64) {
	f.cut = true
	if size >= 0 {
		w.fileWarn(f, "%d bytes; only the first %d were scanned (--max-file-size)", size, w.opts.MaxFileSize)
	} else {
		w.fileWarn(f, "only the first %d bytes were scanned (--max-file-size)", w.opts.MaxFileSize)
	}
}

func (w *layerWalker) accept(f *file, head []byte) bool {
	if f.chain == nil {
		return w.opts.Accept == nil || w.opts.Accept(w.res.Index, f.idx, &w.res.Entries[f.idx], head)
	}
	return w.opts.AcceptMember == nil || w.opts.AcceptMember(w.res.Index, f.idx, &w.res.Entries[f.idx], f.chain, head)
}

// emitFrom reads r from its start and hands it over in chunks.
func (w *layerWalker) emitFrom(r io.Reader, f *file, size int64, strs bool) error {
	bp := w.pool.Get().(*[]byte)
	want := w.opts.ChunkSize
	if size >= 0 && size < int64(want) {
		want = int(size)
	}
	b := (*bp)[:want]
	n, err := io.ReadFull(r, b)
	b = b[:n]
	remaining := int64(-1)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if size >= 0 {
			w.pool.Put(bp)
			return io.ErrUnexpectedEOF
		}
		remaining = 0
	case err != nil:
		w.pool.Put(bp)
		return err
	case size >= 0:
		remaining = size - int64(n)
	}
	if n == 0 {
		w.pool.Put(bp)
		return nil
	}
	return w.emit(r, f, bp, b, remaining, strs)
}

// emit hands b (already read, in the pool buffer bp) and the rest of r to
// the workers in chunks of ChunkSize that overlap by Overlap bytes, cut
// after a newline where the overlap has one. remaining is how many bytes
// of r follow, or -1 to read r to its end.
func (w *layerWalker) emit(r io.Reader, f *file, bp *[]byte, b []byte, remaining int64, strs bool) error {
	var tail []byte
	line := 1
	var offset int64
	// A text file of the layer longer than a chunk is hashed on the way:
	// no worker ever sees it whole (see Digests).
	var h *hasher
	if f.chain == nil && !strs && !f.cut && remaining != 0 && len(b) > w.opts.Overlap {
		h = newHasher()
		h.Write(b)
	}
	for {
		more := remaining != 0 && len(b) > w.opts.Overlap
		job := &chunkJob{Chunk: Chunk{Layer: w.res.Index, Entry: f.idx, Path: f.path, Data: b, StartLine: line, Offset: offset,
			ArchivePath: f.chain, Strings: strs, Whole: offset == 0 && !more && !strs && !f.cut}, buf: bp}
		if more {
			cut := len(b) - w.opts.Overlap
			if nl := bytes.IndexByte(b[cut:], '\n'); nl >= 0 {
				cut += nl + 1
			}
			line += bytes.Count(b[:cut], []byte{'\n'})
			offset += int64(cut)
			tail = append(tail[:0], b[cut:]...)
		}
		*bp = b
		select {
		case w.out <- job:
		case <-w.ctx.Done():
			w.pool.Put(bp)
			return w.ctx.Err()
		}
		if !more {
			if h != nil {
				w.setDigests(f.idx, h.sum())
			}
			return nil
		}
		bp = w.pool.Get().(*[]byte)
		b = append((*bp)[:0], tail...)
		want := w.opts.ChunkSize
		if remaining >= 0 && remaining < int64(want) {
			want = int(remaining)
		}
		n, err := io.ReadFull(r, b[len(b):len(b)+want])
		if h != nil {
			h.Write(b[len(b) : len(b)+n])
		}
		b = b[:len(b)+n]
		if remaining >= 0 {
			remaining -= int64(n)
		}
		switch {
		case (err == io.EOF || err == io.ErrUnexpectedEOF) && remaining < 0:
			remaining = 0
			if n == 0 {
				w.pool.Put(bp)
				if h != nil {
					w.setDigests(f.idx, h.sum())
				}
				return nil // the tail was in the last chunk already
			}
		case err != nil:
			w.pool.Put(bp)
			return err
		}
	}
}
