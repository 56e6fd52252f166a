package mongostore

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/digione/lrs/statements"
)

// Attachments are kept in chunks, like GridFS but reusing its buffers: the
// driver allocates each message it sends or receives, so a file of many
// megabytes is streamed one chunk document at a time, built in one buffer
// and stored deflated when that makes it smaller. A file's document is
// written after all its chunks, so a file is visible only whole; two
// writers racing write their chunks under their own upload ids, and the one
// whose file document loses deletes its chunks.
const chunkSize = 255 << 10

// fileDoc is an attachment: its length and the upload that holds its chunks.
type fileDoc struct {
	ID     string `bson:"_id"` // tenant/sha2
	Length int64  `bson:"len"`
	Chunks int64  `bson:"n"`
	Upload string `bson:"u"`
}

func chunkID(upload string, n int64) string { return fmt.Sprintf("%s/%08d", upload, n) }

// PutAttachment stores content under tenant and sha2 unless it is stored
// already; see statements.AttachmentStore.
func (s *Store) PutAttachment(ctx context.Context, tenant, sha2 string, content io.Reader) error {
	id := tenant + "/" + sha2
	err := s.files.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	if err == nil {
		_, err := io.Copy(io.Discard, content)
		return mapErr(err, "cannot read the attachment")
	}
	if !isNoDocuments(err) {
		return mapErr(err, "cannot store the attachment")
	}
	var u [12]byte
	rand.Read(u[:])
	upload := hex.EncodeToString(u[:])
	f := fileDoc{ID: id, Upload: upload}
	buf := make([]byte, chunkSize)
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, flate.BestSpeed)
	var doc []byte
	cleanup := func() {
		s.chunks.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "u", Value: upload}})
	}
	for {
		n, rerr := io.ReadFull(content, buf)
		if n > 0 {
			data, deflated := buf[:n], false
			z.Reset()
			zw.Reset(&z)
			if _, err := zw.Write(data); err == nil && zw.Close() == nil && z.Len() < n {
				data, deflated = z.Bytes(), true
			}
			var i int32
			i, doc = bsoncore.AppendDocumentStart(doc[:0])
			doc = bsoncore.AppendStringElement(doc, "_id", chunkID(upload, f.Chunks))
			doc = bsoncore.AppendStringElement(doc, "u", upload)
			doc = bsoncore.AppendBooleanElement(doc, "z", deflated)
			doc = bsoncore.AppendBinaryElement(doc, "d", 0, data)
			doc, _ = bsoncore.AppendDocumentEnd(doc, i)
			if _, err := s.chunks.InsertOne(ctx, bson.Raw(doc)); err != nil {
				cleanup()
				return mapErr(err, "cannot store the attachment")
			}
			f.Chunks++
			f.Length += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			cleanup()
			return statements.Internal(rerr, "cannot read the attachment")
		}
	}
	if _, err := s.files.InsertOne(ctx, f); err != nil {
		cleanup()
		if statements.ErrorCode(mapErr(err, "")) == statements.EConflict {
			return nil // stored meanwhile by another writer
		}
		return mapErr(err, "cannot store the attachment")
	}
	return nil
}

// Attachment returns the content stored under tenant and sha2; see
// statements.AttachmentStore.
func (s *Store) Attachment(ctx context.Context, tenant, sha2 string) (io.ReadCloser, int64, error) {
	var f fileDoc
	err := s.files.FindOne(ctx, bson.D{{Key: "_id", Value: tenant + "/" + sha2}}).Decode(&f)
	if isNoDocuments(err) {
		return nil, 0, statements.Errorf(statements.ENotFound, "no attachment %s", sha2)
	}
	if err != nil {
		return nil, 0, mapErr(err, "cannot read the attachment")
	}
	return &chunkReader{ctx: ctx, s: s, f: f}, f.Length, nil
}

// chunkReader reads an attachment chunk by chunk.
type chunkReader struct {
	ctx  context.Context
	s    *Store
	f    fileDoc
	next int64     // the next chunk to read
	cur  io.Reader // the rest of the current chunk
	zr   io.ReadCloser
	br   bytes.Reader
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for {
		if r.cur != nil {
			n, err := r.cur.Read(p)
			if err == io.EOF {
				r.cur, err = nil, nil
			}
			if n > 0 || err != nil {
				return n, err
			}
		}
		if r.next >= r.f.Chunks {
			return 0, io.EOF
		}
		raw, err := r.s.chunks.FindOne(r.ctx, bson.D{{Key: "_id", Value: chunkID(r.f.Upload, r.next)}}).Raw()
		if err != nil {
			return 0, mapErr(err, "cannot read the attachment")
		}
		_, data, ok := raw.Lookup("d").BinaryOK()
		if !ok {
			return 0, statements.Internal(fmt.Errorf("chunk %d of %s has no data", r.next, r.f.ID), "cannot read the attachment")
		}
		r.next++
		r.br.Reset(data)
		if z, _ := raw.Lookup("z").BooleanOK(); !z {
			r.cur = &r.br
			continue
		}
		if r.zr == nil {
			r.zr = flate.NewReader(&r.br)
		} else if err := r.zr.(flate.Resetter).Reset(&r.br, nil); err != nil {
			return 0, statements.Internal(err, "cannot read the attachment")
		}
		r.cur = r.zr
	}
}

func (r *chunkReader) Close() error { return nil }
