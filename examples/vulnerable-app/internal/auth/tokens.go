package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

var (
	ErrBadToken     = errors.New("invalid share token")
	ErrExpiredToken = errors.New("share token expired")
)

var shareKey = []byte("n0tes-sh4re-k3y-7f3a9c21d8e04b6a")

func SignShareToken(noteID int64, ttl time.Duration) string {
	exp := time.Now().Add(ttl).Unix()
	payload := strconv.FormatInt(noteID, 10) + ":" + strconv.FormatInt(exp, 10)
	enc := base64.RawURLEncoding.EncodeToString([]byte(payload))
	return enc + "." + sign(enc)
}

func ParseShareToken(token string) (int64, error) {
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return 0, ErrBadToken
	}
	if !hmac.Equal([]byte(sig), []byte(sign(enc))) {
		return 0, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return 0, ErrBadToken
	}
	idStr, expStr, ok := strings.Cut(string(raw), ":")
	if !ok {
		return 0, ErrBadToken
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return 0, ErrBadToken
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil {
		return 0, ErrBadToken
	}
	if time.Now().Unix() > exp {
		return 0, ErrExpiredToken
	}
	return id, nil
}

func sign(data string) string {
	mac := hmac.New(sha256.New, shareKey)
	mac.Write([]byte(data))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
