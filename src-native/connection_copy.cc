// The COPY half of Connection: data in with PQputCopyData, data out with PQgetCopyData,
// both asynchronous, with backpressure through the socket. COPY BOTH (a replication stream)
// is both at once: its messages are moved as they are, what they mean is for lib/ to read.
#include <climits>
#include <string>

#include "connection.h"

namespace pqnode {

namespace {

// Bytes queued between two flushes while copying in, and read per callback while copying out:
// large enough to amortise the system calls, small enough to keep memory flat.
constexpr size_t kCopyBatchBytes = 256 * 1024;

}  // namespace

Napi::Value Connection::PutCopyData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  if (copy_ != CopyState::kIn && copy_ != CopyState::kBoth) {
    throw Napi::Error::New(env, "no COPY FROM STDIN or COPY BOTH is in progress");
  }
  // libpq takes the length as int: more would go out cut short, or as garbage
  const auto checked = [env](size_t size) {
    if (size > static_cast<size_t>(INT_MAX)) {
      throw Napi::RangeError::New(env, "COPY data of " + std::to_string(size) + " bytes in one piece: more than libpq can send at once");
    }
    return static_cast<int>(size);
  };
  int queued;
  size_t size;
  if (info[0].IsBuffer()) {
    Napi::Buffer<char> buffer = info[0].As<Napi::Buffer<char>>();
    size = buffer.Length();
    queued = PQputCopyData(conn, buffer.Data(), checked(size));
  } else if (info[0].IsString()) {
    std::string text = info[0].As<Napi::String>().Utf8Value();
    size = text.size();
    queued = PQputCopyData(conn, text.data(), checked(size));
  } else {
    throw Napi::TypeError::New(env, "COPY data must be a Buffer or a string");
  }
  if (queued < 0) {
    // typically the server rejected the data and libpq left COPY mode: its error result
    // follows, so results are read again
    std::string message = PQerrorMessage(conn);
    copy_ = CopyState::kNone;
    copy_framed_ = false;
    copy_unflushed_ = 0;
    UpdateKeepAlive();
    throw Napi::Error::New(env, message.empty() ? "sending COPY data failed" : message);
  }
  if (queued == 0) {
    // libpq could not even buffer it: wait for the socket
    output_pending_ = true;
    UpdateWatch();
    return Napi::Number::New(env, 0);
  }
  copy_unflushed_ += size;
  // a replication stream's messages (status updates) are few and small, and wanted now
  if (copy_unflushed_ >= kCopyBatchBytes || copy_ == CopyState::kBoth) {
    copy_unflushed_ = 0;
    const int flushed = PQflush(conn);
    if (flushed < 0) ThrowLibpqError(env, "sending COPY data");
    output_pending_ = flushed == 1;
    UpdateWatch();
    if (output_pending_) return Napi::Number::New(env, 0);
  }
  return Napi::Number::New(env, 1);
}

Napi::Value Connection::PutCopyEnd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  if (copy_ != CopyState::kIn && copy_ != CopyState::kBoth) {
    throw Napi::Error::New(env, "no COPY FROM STDIN or COPY BOTH is in progress");
  }
  const bool both = copy_ == CopyState::kBoth;
  std::string error;
  const bool failed = info[0].IsString();
  if (failed) error = info[0].As<Napi::String>().Utf8Value();
  const int ended = PQputCopyEnd(conn, failed ? error.c_str() : nullptr);
  if (ended < 0) ThrowLibpqError(env, "ending COPY");
  if (ended == 1 && both) {
    // libpq goes on reading until the server ends its half too, then the result follows
    copy_ = CopyState::kOut;
    copy_unflushed_ = 0;
    const int flushed = PQflush(conn);
    if (flushed < 0) ThrowLibpqError(env, "ending COPY");
    output_pending_ = flushed == 1;
  } else if (ended == 1) {
    // the server answers with the COPY's result, read as any other
    copy_ = CopyState::kNone;
    copy_framed_ = false;
    copy_unflushed_ = 0;
    const int flushed = PQflush(conn);
    if (flushed < 0) ThrowLibpqError(env, "ending COPY");
    output_pending_ = flushed == 1;
  } else {
    output_pending_ = true;
  }
  UpdateWatch();
  UpdateKeepAlive();
  if (ended == 1 && (FlushState() & kInputWaiting)) return Napi::Number::New(env, 2);
  return Napi::Number::New(env, ended);
}

Napi::Value Connection::PauseCopyOut(const Napi::CallbackInfo& info) {
  if (CopyReading() && !copy_out_paused_) {
    copy_out_paused_ = true;
    UpdateWatch();
  }
  return info.Env().Undefined();
}

Napi::Value Connection::ResumeCopyOut(const Napi::CallbackInfo& info) {
  if (CopyReading() && copy_out_paused_) {
    copy_out_paused_ = false;
    UpdateWatch();
    // Rows libpq already holds raise no socket event: the caller pumps them with
    // processInput() on a later tick.
  }
  return info.Env().Undefined();
}

Napi::Value Connection::ProcessInput(const Napi::CallbackInfo& info) {
  // what libpq already holds; the socket itself is read when it signals data
  if (state_ == State::kOpen) ReadInput(false);
  return info.Env().Undefined();
}

void Connection::ReadCopyOut(Napi::Env env) {
  std::string batch;
  bool done = false;
  while (CopyReading() && !copy_out_paused_) {
    char* data = nullptr;
    const int size = PQgetCopyData(conn_, &data, 1);
    if (size > 0) {
      if (copy_framed_) {
        // one CopyData message: its length (4 bytes, big-endian), then its bytes
        const uint32_t length = static_cast<uint32_t>(size);
        const char prefix[4] = {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                                static_cast<char>(length >> 8), static_cast<char>(length)};
        batch.append(prefix, sizeof prefix);
      }
      batch.append(data, size);
      PQfreemem(data);
      if (batch.size() < kCopyBatchBytes) continue;
    } else if (size == -1 && copy_ == CopyState::kBoth) {
      // the server ended its half of a COPY BOTH: libpq waits for ours (putCopyEnd)
      copy_ = CopyState::kIn;
      done = true;
    } else if (size == -1 || size == -2) {
      // -1: all of it came; -2: it failed, and PQgetResult tells why
      copy_ = CopyState::kNone;
      copy_framed_ = false;
      done = true;
    }
    if (!batch.empty() || done) {
      Napi::Value chunk = batch.empty() ? env.Null() : Napi::Buffer<char>::Copy(env, batch.data(), batch.size());
      batch.clear();
      Invoke(Callback::kCopyData, {chunk, Napi::Boolean::New(env, done)});
      if (state_ != State::kOpen) return;
    }
    if (size == 0 || done) break;
  }
}

}  // namespace pqnode
