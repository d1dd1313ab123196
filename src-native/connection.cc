#include "connection.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "libpq_compat.h"
#include "params.h"
#include "result_builder.h"
#include "small_array.h"
#include "utf8.h"

namespace pqnode {

namespace {

// A batch goes to JS as the arguments of one onResults call (V8 makes them an array at
// once; setting elements one by one from here costs a generic property store each).
// Bounded, so that a backlog of thousands of results never makes an outsized call.
constexpr size_t kMaxBatch = 1024;

// The vector a batch of results is gathered in, borrowed from the connection so that its
// storage is reused: most batches hold one result, and allocating for it on every read
// cost a malloc and a free. A nested ReadInput (JS pumping input from a callback) finds
// nothing to borrow and uses a vector of its own.
class BorrowedBatch {
 public:
  explicit BorrowedBatch(std::vector<napi_value>& spare) : spare_(spare) { items_.swap(spare); }
  BorrowedBatch(const BorrowedBatch&) = delete;
  BorrowedBatch& operator=(const BorrowedBatch&) = delete;
  ~BorrowedBatch() {
    // a vector grown for a backlog is let go rather than kept for the connection's life
    if (spare_.capacity() == 0 && items_.capacity() <= kKeptCapacity) {
      items_.clear();
      spare_.swap(items_);
    }
  }
  std::vector<napi_value>& items() { return items_; }

 private:
  static constexpr size_t kKeptCapacity = 64;
  std::vector<napi_value>& spare_;
  std::vector<napi_value> items_;
};

// A PGresult freed however the scope is left: building its JS value may throw (a JS call
// fails once a worker is ending), and libpq's memory must not leak then.
struct ClearResult {
  void operator()(PGresult* result) const { PQclear(result); }
};
using OwnedResult = std::unique_ptr<PGresult, ClearResult>;

struct FreeNotify {
  void operator()(PGnotify* notify) const { PQfreemem(notify); }
};

}  // namespace

// Called once per statement: functions of each connection's own (see own_methods.h).
const OwnMethods<Connection>::Entry Connection::kOwnMethods[5] = {
    OwnMethods<Connection>::Of<&Connection::SendQuery>("sendQuery"),
    OwnMethods<Connection>::Of<&Connection::SendPrepare>("sendPrepare"),
    OwnMethods<Connection>::Of<&Connection::SendQueryPrepared>("sendQueryPrepared"),
    OwnMethods<Connection>::Of<&Connection::Flush>("flush"),
    OwnMethods<Connection>::Of<&Connection::TransactionStatus>("transactionStatus"),
};

Napi::Function Connection::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceMethod<&Connection::Connect>("connect"),
      InstanceMethod<&Connection::SendClosePrepared>("sendClosePrepared"),
      InstanceMethod<&Connection::Sync>("sync"),
      InstanceMethod<&Connection::SendFlushRequest>("sendFlushRequest"),
      InstanceMethod<&Connection::SendSimpleQuery>("sendSimpleQuery"),
      InstanceMethod<&Connection::PutCopyData>("putCopyData"),
      InstanceMethod<&Connection::PutCopyEnd>("putCopyEnd"),
      InstanceMethod<&Connection::PauseCopyOut>("pauseCopyOut"),
      InstanceMethod<&Connection::ResumeCopyOut>("resumeCopyOut"),
      InstanceMethod<&Connection::PauseReading>("pauseReading"),
      InstanceMethod<&Connection::ResumeReading>("resumeReading"),
      InstanceMethod<&Connection::ProcessInput>("processInput"),
      InstanceMethod<&Connection::SetDecoders>("setDecoders"),
      InstanceMethod<&Connection::Cancel>("cancel"),
      InstanceMethod<&Connection::EscapeLiteral>("escapeLiteral"),
      InstanceMethod<&Connection::EscapeIdentifier>("escapeIdentifier"),
      InstanceMethod<&Connection::ParameterStatus>("parameterStatus"),
      InstanceMethod<&Connection::Info>("info"),
      InstanceMethod<&Connection::PendingCommands>("pendingCommands"),
      InstanceMethod<&Connection::Close>("close"),
      InstanceAccessor<&Connection::IsOpen>("isOpen"),
  };
  for (const auto& entry : kOwnMethods) {
    void* data = const_cast<OwnMethods<Connection>::Entry*>(&entry);
    properties.push_back(InstanceAccessor<&Connection::OwnMethod>(entry.name, napi_default, data));
  }
  return DefineClass(env, "Connection", properties);
}

Connection::Connection(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Connection>(info),
      addon_(info.Env().GetInstanceData<AddonData>()),
      watch_(addon_, this, &Connection::OnSocketEvent) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    throw Napi::TypeError::New(env, "Connection needs an object of callbacks");
  }
  // The callbacks hang off the JS object itself and are referenced weakly from here, so
  // that a connection nobody holds can be garbage-collected (and closed by the finalizer).
  // Each is read once: reading it by name for every batch of results cost ~1,500
  // instructions, more than a tenth of what the C++ side spends on a one-row result.
  static constexpr const char* kNames[kCallbackCount] = {"onResults", "onWritable",     "onFailure",
                                                         "onNotice",  "onNotification", "onCopyData"};
  Napi::Object callbacks = info[0].As<Napi::Object>();
  for (size_t slot = 0; slot < kCallbackCount; slot++) {
    Napi::Value function = callbacks.Get(kNames[slot]);
    if (!function.IsFunction()) {
      throw Napi::TypeError::New(env, std::string("Connection needs an object of callbacks: ") + kNames[slot] +
                                          " is not a function");
    }
    callbacks_[slot] = Napi::Weak(function.As<Napi::Function>());
  }
  Napi::Object self = info.This().As<Napi::Object>();
  self.Set("callbacks", callbacks);
  async_context_ = new Napi::AsyncContext(env, "pqnode.Connection");
}

Connection::~Connection() {
  CloseConnection();
  delete async_context_;
}

void Connection::Shutdown() {
  addon_ = nullptr;
  connect_callback_.Reset();
  CloseConnection();
  state_ = State::kClosed;
}

// ---------------------------------------------------------------------------------------
// connecting

Napi::Value Connection::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ != State::kNew) throw Napi::Error::New(env, "connect() may be called once per connection");
  if (!info[0].IsArray() || !info[1].IsArray() || !info[2].IsBoolean() || !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "connect(keywords, values, expandDbname, callback)");
  }
  Napi::Array keyword_array = info[0].As<Napi::Array>();
  Napi::Array value_array = info[1].As<Napi::Array>();
  const uint32_t count = keyword_array.Length();
  if (value_array.Length() != count) throw Napi::TypeError::New(env, "keywords and values differ in length");
  std::vector<std::string> keywords(count), values(count);
  std::vector<const char*> keyword_pointers(count + 1, nullptr), value_pointers(count + 1, nullptr);
  for (uint32_t i = 0; i < count; i++) {
    keywords[i] = keyword_array.Get(i).ToString().Utf8Value();
    values[i] = value_array.Get(i).ToString().Utf8Value();
    keyword_pointers[i] = keywords[i].c_str();
    value_pointers[i] = values[i].c_str();
  }
  // the caller says whether its dbname is a conninfo string to expand or a database name
  const bool expand_dbname = info[2].As<Napi::Boolean>().Value();
  conn_ = PQconnectStartParams(keyword_pointers.data(), value_pointers.data(), expand_dbname ? 1 : 0);
  if (conn_ == nullptr) throw Napi::Error::New(env, "out of memory");
  if (PQstatus(conn_) == CONNECTION_BAD) {
    std::string message = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    state_ = State::kClosed;
    throw Napi::Error::New(env, message);
  }
  PQsetNoticeReceiver(conn_, &Connection::OnNotice, this);
  // libpq gives no PGresult for a failed connection attempt, only its message: in verbose
  // form that message carries the server's SQLSTATE ("FATAL:  28P01: ..."), which lib/ reads
  // and removes. Reset once connected, so that later messages have their usual form.
  PQsetErrorVerbosity(conn_, PQERRORS_VERBOSE);
  if (addon_ != nullptr) addon_->live_connections.insert(this);
  connect_callback_ = Napi::Persistent(info[3].As<Napi::Function>());
  state_ = State::kConnecting;
  UpdateKeepAlive();
  // libpq has begun connecting: it waits for the socket to become writable (on loopback it
  // already is), then sends the first request and waits for the answer
  const PostgresPollingStatusType status = StepsAtOnce(PGRES_POLLING_WRITING);
  std::string failure;
  // PGRES_POLLING_OK needs an answer read, which no step here waits for; were it to come,
  // the next step reports it again once the socket is writable. A failure is thrown, as when
  // PQconnectStartParams fails, never a callback from inside this call.
  if (!WaitFor(status == PGRES_POLLING_OK ? PGRES_POLLING_WRITING : status, &failure)) {
    CloseConnection();
    state_ = State::kClosed;
    connect_callback_.Reset();
    UpdateKeepAlive();
    throw Napi::Error::New(env, failure);
  }
  return env.Undefined();
}

void Connection::ContinueConnect() {
  const PostgresPollingStatusType status = StepsAtOnce(PQconnectPoll(conn_));
  if (status == PGRES_POLLING_OK) {
    FinishConnect(nullptr);
    return;
  }
  std::string failure;
  if (!WaitFor(status, &failure)) FinishConnect(failure.c_str());
}

PostgresPollingStatusType Connection::StepsAtOnce(PostgresPollingStatusType status) {
  // libpq asks to wait until the socket can be written to before the steps that send (the
  // SSL request, the startup packet), but a socket that has just connected or been read
  // from almost always can be: asked without waiting, such a step runs at once, saving a
  // turn of the event loop and two changes of what the watcher waits for (4 epoll_ctl).
  // Bounded, though every step moves libpq on.
  constexpr int kStepsAtOnce = 8;
  for (int step = 0; step < kStepsAtOnce && status == PGRES_POLLING_WRITING; step++) {
    if (!SocketWatch::WritableNow(PQsocket(conn_))) break;
    status = PQconnectPoll(conn_);
  }
  return status;
}

bool Connection::WaitFor(PostgresPollingStatusType status, std::string* failure) {
  if (status != PGRES_POLLING_READING && status != PGRES_POLLING_WRITING) {
    *failure = PQerrorMessage(conn_);
    return false;
  }
  // the socket may be a new one (next host, SSL retry): WatchSocket tells
  const int error = watch_.WatchSocket(PQsocket(conn_), status == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE);
  if (error == 0) return true;
  *failure = std::string("cannot watch the socket: ") + uv_strerror(error);
  return false;
}

void Connection::FinishConnect(const char* error) {
  Napi::Env env = Env();
  std::string message;
  if (error == nullptr) {
    // connected: later messages take their usual form again (see Connect)
    PQsetErrorVerbosity(conn_, PQERRORS_DEFAULT);
    if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) {
      message = PQerrorMessage(conn_);
      error = message.c_str();
    }
  } else {
    message = error;
  }
  Napi::FunctionReference callback = std::move(connect_callback_);
  if (error != nullptr) {
    CloseConnection();
    state_ = State::kClosed;
    UpdateKeepAlive();
    if (!callback.IsEmpty()) {
      callback.MakeCallback(Env().Global(), {Napi::String::New(env, message)}, *async_context_);
    }
    return;
  }
  pipeline_on_ = true;
  state_ = State::kOpen;
  UpdateWatch();
  UpdateKeepAlive();
  // notices sent while connecting come first, then the connection is handed over
  DeliverNotices(env);
  if (!callback.IsEmpty()) callback.MakeCallback(Env().Global(), {env.Null()}, *async_context_);
  if (state_ == State::kOpen) DeliverNotifications(env);
}

// ---------------------------------------------------------------------------------------
// the event loop side

void Connection::OnSocketEvent(void* owner, int status, int events) {
  auto* self = static_cast<Connection*>(owner);
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  try {
    if (status < 0 && self->state_ == State::kOpen) {
      // libpq tells what went wrong better than the poll status does: let it read the socket
      self->ReadInput(true);
      // libuv reports POLLERR (a reset connection, say) as UV_EBADF, which would read as a bug
      if (self->state_ == State::kOpen) {
        self->Fail(status == UV_EBADF ? std::string("the connection to the server was lost (socket error)")
                                      : std::string("socket error: ") + uv_strerror(status));
      }
      return;
    }
    if (self->state_ == State::kConnecting) {
      // an error on the socket (e.g. a refused connection) is PQconnectPoll's to report: it
      // then moves on to the host's next address or the next host
      self->ContinueConnect();
      return;
    }
    if (self->state_ != State::kOpen) return;
    if (events & UV_WRITABLE) self->WriteOutput();
    // libpq reads while a write would block, so results may wait in its buffer with no
    // readable event to come: after a write, look at the input too
    if (self->state_ == State::kOpen && (events & UV_READABLE || self->pending_commands_ > 0)) {
      self->ReadInput(true);
    }
  } catch (const Napi::Error& error) {
    // A JS callback threw: reported as Node reports any uncaught exception. Or the worker is
    // ending and JS no longer runs: nothing more is read, and its teardown closes the connection.
    if (!ReportFromLoop(env, error)) self->watch_.Stop();
  }
}

void Connection::OnNotice(void* owner, const PGresult* result) {
  // Called from inside libpq while it parses input: keep it, hand it to JS afterwards.
  auto* self = static_cast<Connection*>(owner);
  self->notices_.push_back({CopyErrorFields(result), PQresultErrorMessage(result)});
}

void Connection::ReadInput(bool read_socket) {
  Napi::Env env = Env();
  if (reading_paused_) {
    // nothing is read until the consumer resumes: TCP slows the server down meanwhile
    if (output_pending_) WriteOutput();
    return;
  }
  // Reading is for when the socket has data: libpq left-justifies its whole input buffer on
  // every PQconsumeInput and grows it while it is nearly full, so reading again while it
  // still holds unprocessed rows (a paused COPY OUT) would grow and copy it without bound.
  const bool consumed = !read_socket || PQconsumeInput(conn_) == 1;
  std::string failure;
  if (!consumed) failure = PQerrorMessage(conn_);
  BorrowedBatch batch(spare_batch_);
  std::vector<napi_value>& items = batch.items();
  for (;;) {
    items.clear();
    const bool more = DrainResults(env, items);
    // libpq closes the socket when it finds the connection gone. The watcher lets go of it
    // before any JS runs: a connection opened from a callback may get the same descriptor.
    if (PQsocket(conn_) < 0) watch_.Release();
    // a statement's notices come before its result, as the server sent them
    DeliverNotices(env);
    if (state_ != State::kOpen) return;
    if (!items.empty()) {
      Invoke(Callback::kResults, items);
      if (state_ != State::kOpen) return;
    }
    if (more) continue;
    if (CopyReading() && !copy_out_paused_) {
      ReadCopyOut(env);
      if (state_ != State::kOpen) return;
      if (copy_ == CopyState::kNone) continue;  // the COPY ended: its final result follows
    }
    break;
  }
  DeliverNotifications(env);
  if (state_ != State::kOpen) return;
  if (!consumed) {
    Fail(failure);
    return;
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    Fail(PQerrorMessage(conn_));
    return;
  }
  if (output_pending_) WriteOutput();
  UpdateKeepAlive();
}

bool Connection::DrainResults(Napi::Env env, std::vector<napi_value>& items) {
  items.reserve(16);
  // the single-row result the following single rows of the same command join
  Napi::Object single_rows;
  // a result taken from libpq ahead of its turn (see the first chunk below), NULL included
  bool has_carried = false;
  OwnedResult carried;
  while (has_carried ||
         (pending_commands_ > 0 && copy_ == CopyState::kNone && state_ == State::kOpen && !reading_paused_)) {
    OwnedResult result;
    if (has_carried) {
      result = std::move(carried);
      has_carried = false;
    } else {
      if (items.size() >= kMaxBatch) return true;
      ApplyRowMode();
      if (PQisBusy(conn_)) return false;
      result.reset(PQgetResult(conn_));
    }
    if (result == nullptr) {
      single_rows = Napi::Object();
      merge_target_.Reset();
      items.push_back(Napi::Number::New(env, kEndOfCommand));
      CommandDone();
      if (!pipeline_on_ && pending_commands_ == 0) {
        // a simple-protocol query has finished: back to pipeline mode for what follows
        if (PQenterPipelineMode(conn_) == 1) pipeline_on_ = true;
      }
      continue;
    }
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_PIPELINE_SYNC) {
      items.push_back(Napi::Number::New(env, kSyncBase + PQtransactionStatus(conn_)));
      CommandDone();
      continue;
    }
    // decoded as the table said when the command was sent
    const DecoderTable& decoders = sent_commands_.empty() ? *decoders_ : *sent_commands_.front().decoders;
    const bool object_rows = !sent_commands_.empty() && sent_commands_.front().object_rows;
    const bool merging = !sent_commands_.empty() && sent_commands_.front().merge_chunks;
    if (merging && static_cast<int>(status) == kStatusTuplesChunk && !merge_target_.IsEmpty()) {
      AppendRows(env, conn_, merge_target_.Value(), result.get(), decoders, fields_cache_);
      if (HasCommandTag(result.get())) merge_tag_ = CommandTagOf(result.get());
      continue;
    }
    if (merging && status == PGRES_TUPLES_OK && !merge_target_.IsEmpty()) {
      // the chunks' end: the merged result takes the final status, command tag and count
      FinishMergedResult(env, merge_target_.Value(), result.get(),
                         HasCommandTag(result.get()) ? CommandTagOf(result.get()) : merge_tag_);
      merge_target_.Reset();
      continue;
    }
    if (status == PGRES_SINGLE_TUPLE && !single_rows.IsEmpty()) {
      AppendRows(env, conn_, single_rows, result.get(), decoders, fields_cache_);
      continue;
    }
    if (merging && static_cast<int>(status) == kStatusTuplesChunk) {
      // The first chunk. When libpq already holds what follows it and that is the end of the
      // rows (a result of one chunk: most are), the two make one result at once.
      OwnedResult end;
      if (!PQisBusy(conn_)) {
        OwnedResult next(PQgetResult(conn_));
        if (next != nullptr && PQresultStatus(next.get()) == PGRES_TUPLES_OK) {
          end = std::move(next);
        } else {
          carried = std::move(next);
          has_carried = true;
        }
      }
      Napi::Object built = BuildResult(env, conn_, result.get(), decoders, fields_cache_, object_rows, end.get());
      if (end == nullptr) {
        merge_target_ = Napi::Persistent(built);
        merge_tag_ = CommandTagOf(result.get());
      }
      items.push_back(built);
      continue;
    }
    Napi::Object built = BuildResult(env, conn_, result.get(), decoders, fields_cache_, object_rows);
    single_rows = status == PGRES_SINGLE_TUPLE ? built : Napi::Object();
    items.push_back(built);
    result.reset();
    if (status == PGRES_COPY_IN) {
      copy_ = CopyState::kIn;
    } else if (status == PGRES_COPY_OUT) {
      copy_ = CopyState::kOut;
      copy_out_paused_ = false;
      copy_framed_ = false;
    } else if (status == PGRES_COPY_BOTH) {
      copy_ = CopyState::kBoth;
      copy_out_paused_ = false;
      copy_framed_ = true;
    }
  }
  return false;
}

void Connection::WriteOutput() {
  const int flushed = PQflush(conn_);
  if (flushed < 0) {
    Fail(PQerrorMessage(conn_));
    return;
  }
  const bool was_pending = output_pending_;
  output_pending_ = flushed == 1;
  UpdateWatch();
  if (was_pending && !output_pending_ && copy_ == CopyState::kIn) Invoke(Callback::kWritable, {});
}

void Connection::Fail(const std::string& message) {
  if (state_ != State::kOpen && state_ != State::kConnecting) return;
  CloseConnection();
  state_ = State::kClosed;
  UpdateKeepAlive();
  Invoke(Callback::kFailure, {Napi::String::New(Env(), message)});
}

void Connection::DeliverNotices(Napi::Env env) {
  while (!notices_.empty() && state_ != State::kClosed) {
    Notice notice = std::move(notices_.front());
    notices_.pop_front();
    Invoke(Callback::kNotice, {ErrorFieldsToObject(env, notice.fields), Napi::String::New(env, notice.message)});
  }
}

void Connection::DeliverNotifications(Napi::Env env) {
  while (state_ == State::kOpen) {
    std::unique_ptr<PGnotify, FreeNotify> notify(PQnotifies(conn_));
    if (notify == nullptr) break;
    Napi::Object notification = Napi::Object::New(env);
    notification.Set("channel", Napi::String::New(env, notify->relname));
    notification.Set("payload", Napi::String::New(env, notify->extra != nullptr ? notify->extra : ""));
    notification.Set("pid", Napi::Number::New(env, notify->be_pid));
    notify.reset();
    Invoke(Callback::kNotification, {notification});
  }
}

void Connection::CloseConnection() {
  watch_.Release();
  // their callbacks never run: the JS layer fails the cancels of a connection that closes
  cancels_.AbandonAll();
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  if (addon_ != nullptr) addon_->live_connections.erase(this);
  pending_commands_ = 0;
  sent_commands_.clear();
  fields_cache_.Clear();
  merge_target_.Reset();
  row_mode_applied_ = false;
  reading_paused_ = false;
  copy_ = CopyState::kNone;
  copy_framed_ = false;
  output_pending_ = false;
  pipeline_on_ = false;
}

void Connection::UpdateWatch() {
  if (state_ != State::kOpen) return;
  if (PQsocket(conn_) < 0) {
    // libpq dropped the connection: say what libpq says, not that the socket cannot be watched
    Fail(PQerrorMessage(conn_));
    return;
  }
  int events = output_pending_ ? UV_WRITABLE : 0;
  // a paused COPY OUT or row stream stops reading, so that TCP itself slows the server down
  if (!(CopyReading() && copy_out_paused_) && !reading_paused_) events |= UV_READABLE;
  const int error = watch_.Watch(PQsocket(conn_), events);
  if (error != 0) Fail(std::string("cannot watch the socket: ") + uv_strerror(error));
}

void Connection::UpdateKeepAlive() {
  // While work is under way the JS object must stay alive, or its promises would never settle.
  const bool busy = state_ == State::kConnecting ||
                    (state_ == State::kOpen && (pending_commands_ > 0 || copy_ != CopyState::kNone));
  if (busy && !kept_alive_) {
    Ref();
    kept_alive_ = true;
  } else if (!busy && kept_alive_) {
    Unref();
    kept_alive_ = false;
  }
}

void Connection::Invoke(Callback callback, const std::vector<napi_value>& args) {
  Napi::FunctionReference& reference = callbacks_[static_cast<size_t>(callback)];
  if (reference.IsEmpty()) return;
  Napi::Function function = reference.Value();
  // collected along with the JS object: nobody is left to tell
  if (function.IsEmpty()) return;
  function.MakeCallback(function, args, *async_context_);
}

// ---------------------------------------------------------------------------------------
// sending

// A statement's text or a prepared statement's name, converted in one pass. Statement
// texts travel as C strings: a NUL would silently cut the statement short.
class StatementText {
 public:
  StatementText(Napi::Env env, Napi::Value value) {
    size_t offset = 0;  // the only string appended: at 0
    if (!bytes_.Append(env, value, &offset, &length_)) {
      throw Napi::TypeError::New(env, "the statement text must be a string");
    }
    if (bytes_.HasNul(0, length_)) throw Napi::TypeError::New(env, "the statement text contains a NUL byte");
  }
  const char* c_str() const { return bytes_.At(0); }
  const char* data() const { return bytes_.At(0); }
  size_t size() const { return length_; }

 private:
  Utf8Bytes<256> bytes_;
  size_t length_ = 0;
};

// A boolean argument: read as one when it is one (the common case, one call), else coerced.
static bool Flag(Napi::Value value) {
  bool flag = false;
  if (napi_get_value_bool(value.Env(), value, &flag) == napi_ok) return flag;
  return value.ToBoolean();
}

PGconn* Connection::OpenConn(Napi::Env env) {
  if (state_ != State::kOpen) throw Napi::Error::New(env, "the connection is closed");
  return conn_;
}

void Connection::ThrowLibpqError(Napi::Env env, const char* what) {
  std::string message = PQerrorMessage(conn_);
  if (message.empty()) message = std::string(what) + " failed";
  throw Napi::Error::New(env, message);
}

void Connection::AfterSend() { UpdateKeepAlive(); }

static int SendSyncMarker(PGconn* conn) {
  // libpq 17 can queue a sync without flushing, so that queries issued together leave in one write
  if (HasSendPipelineSync()) return PQsendPipelineSync(conn);
  return PQpipelineSync(conn);
}

PGconn* Connection::PipelineConn(Napi::Env env) {
  PGconn* conn = OpenConn(env);
  if (!pipeline_on_ || copy_ != CopyState::kNone) throw Napi::Error::New(env, "another operation is in progress");
  return conn;
}

void Connection::CommandSent(Napi::Env env, PGconn* conn, bool sync, int row_mode, bool object_rows,
                             bool returns_rows) {
  pending_commands_++;
  sent_commands_.push_back({row_mode, decoders_, object_rows, returns_rows && row_mode == 0 && HasChunkedRows()});
  if (sync) {
    if (!SendSyncMarker(conn)) ThrowLibpqError(env, "sending a sync");
    pending_commands_++;
    sent_commands_.push_back({0, decoders_, false, false});
  }
  AfterSend();
}

void Connection::CommandDone() {
  pending_commands_--;
  if (!sent_commands_.empty()) sent_commands_.pop_front();
  row_mode_applied_ = false;
}

void Connection::ApplyRowMode() {
  if (row_mode_applied_ || sent_commands_.empty()) return;
  row_mode_applied_ = true;
  const int mode = sent_commands_.front().row_mode;
  if (sent_commands_.front().merge_chunks) {
    PQsetChunkedRowsMode(conn_, kMergedChunkRows);
  } else if (mode == 1) {
    PQsetSingleRowMode(conn_);
  } else if (mode > 1) {
    if (HasChunkedRows()) {
      PQsetChunkedRowsMode(conn_, mode);
    } else {
      PQsetSingleRowMode(conn_);
    }
  }
}

Napi::Value Connection::PauseReading(const Napi::CallbackInfo& info) {
  if (!reading_paused_) {
    reading_paused_ = true;
    UpdateWatch();
  }
  return info.Env().Undefined();
}

Napi::Value Connection::ResumeReading(const Napi::CallbackInfo& info) {
  if (reading_paused_) {
    reading_paused_ = false;
    UpdateWatch();
    // results libpq already holds raise no socket event: the caller pumps them with processInput()
  }
  return info.Env().Undefined();
}

Napi::Value Connection::SendQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = PipelineConn(env);
  const StatementText text(env, info[0]);
  Params params(env, info[1], info[2]);
  if (!PQsendQueryParams(conn, text.c_str(), params.count(), params.types(), params.values(), params.lengths(),
                         params.formats(), 0)) {
    ThrowLibpqError(env, "sending the query");
  }
  const int row_mode = info[4].IsNumber() ? info[4].As<Napi::Number>().Int32Value() : 0;
  CommandSent(env, conn, Flag(info[3]), row_mode > 0 ? row_mode : 0, Flag(info[5]), true);
  return env.Undefined();
}

Napi::Value Connection::SendPrepare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = PipelineConn(env);
  const StatementText name(env, info[0]);
  const StatementText text(env, info[1]);
  Params params(env, env.Null(), info[2]);
  if (!PQsendPrepare(conn, name.c_str(), text.c_str(), params.type_count(), params.types())) {
    ThrowLibpqError(env, "sending the statement to prepare");
  }
  CommandSent(env, conn, Flag(info[3]));
  return env.Undefined();
}

// sendQueryPrepared(name, sync, objectRows, ...values), or (name, sync, objectRows, values)
// with the values in an array: parameters are strings, Buffers or null, never arrays.
Napi::Value Connection::SendQueryPrepared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = PipelineConn(env);
  const StatementText name(env, info[0]);
  constexpr size_t kFirstValue = 3;
  const size_t argc = info.Length();
  const bool in_array = argc == kFirstValue + 1 && info[kFirstValue].IsArray();
  // napi_values of the call's arguments, valid for as long as the call lasts
  SmallArray<napi_value, 16> spread;
  if (!in_array && argc > kFirstValue) {
    spread.Resize(argc - kFirstValue);
    for (size_t i = kFirstValue; i < argc; i++) spread[i - kFirstValue] = info[i];
  }
  Params params = in_array ? Params(env, info[kFirstValue], env.Null()) : Params(env, spread.data(), spread.size());
  if (!PQsendQueryPrepared(conn, name.c_str(), params.count(), params.values(), params.lengths(), params.formats(),
                           0)) {
    ThrowLibpqError(env, "sending the prepared query");
  }
  CommandSent(env, conn, Flag(info[1]), 0, Flag(info[2]), true);
  return env.Undefined();
}

Napi::Value Connection::SendClosePrepared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!HasClosePrepared()) throw Napi::Error::New(env, "the linked libpq has no PQsendClosePrepared (libpq 17+)");
  PGconn* conn = PipelineConn(env);
  const StatementText name(env, info[0]);
  if (!PQsendClosePrepared(conn, name.c_str())) ThrowLibpqError(env, "sending the close of a prepared statement");
  CommandSent(env, conn, Flag(info[1]));
  return env.Undefined();
}

Napi::Value Connection::Sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  if (!pipeline_on_) throw Napi::Error::New(env, "not in pipeline mode");
  if (!SendSyncMarker(conn)) ThrowLibpqError(env, "sending a sync");
  pending_commands_++;
  sent_commands_.push_back({0, decoders_, false, false});
  AfterSend();
  return env.Undefined();
}

Napi::Value Connection::SendFlushRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = PipelineConn(env);
  // without a sync the server keeps results in its buffer until asked for them
  if (!PQsendFlushRequest(conn)) ThrowLibpqError(env, "sending a flush request");
  return env.Undefined();
}

Napi::Value Connection::SendSimpleQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  if (pending_commands_ > 0 || copy_ != CopyState::kNone) {
    throw Napi::Error::New(env, "a simple query needs the connection to itself");
  }
  const StatementText text(env, info[0]);
  if (pipeline_on_) {
    if (PQexitPipelineMode(conn) != 1) ThrowLibpqError(env, "leaving pipeline mode");
    pipeline_on_ = false;
  }
  if (!PQsendQuery(conn, text.c_str())) {
    std::string message = PQerrorMessage(conn);
    if (PQenterPipelineMode(conn) == 1) pipeline_on_ = true;
    throw Napi::Error::New(env, message);
  }
  pending_commands_++;
  sent_commands_.push_back({0, decoders_, false, false});
  AfterSend();
  return env.Undefined();
}

Napi::Value Connection::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  const int flushed = PQflush(conn);
  if (flushed < 0) ThrowLibpqError(env, "sending data");
  output_pending_ = flushed == 1;
  UpdateWatch();
  return Napi::Number::New(env, FlushState());
}

int Connection::FlushState() {
  int state = output_pending_ ? kOutputPending : 0;
  // sending may have made libpq read results into its buffer: no socket event will tell
  if (pending_commands_ > 0 && copy_ == CopyState::kNone && !reading_paused_) {
    ApplyRowMode();
    if (!PQisBusy(conn_)) state |= kInputWaiting;
  }
  return state;
}

// ---------------------------------------------------------------------------------------
// accessors

Napi::Value Connection::SetDecoders(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[1].IsArray()) throw Napi::TypeError::New(env, "setDecoders(oids, decoders)");
  Napi::Array oids = info[0].As<Napi::Array>();
  Napi::Array decoders = info[1].As<Napi::Array>();
  if (oids.Length() != decoders.Length()) throw Napi::TypeError::New(env, "oids and decoders differ in length");
  auto table = std::make_shared<DecoderTable>();
  for (uint32_t i = 0; i < oids.Length(); i++) {
    const uint32_t entry = decoders.Get(i).ToNumber().Uint32Value();
    if ((entry & ~uint32_t{DecoderTable::kFinal}) >= static_cast<uint32_t>(Decoder::kCount)) {
      throw Napi::RangeError::New(env, "unknown decoder");
    }
    table->Set(oids.Get(i).ToNumber().Uint32Value(), static_cast<uint8_t>(entry));
  }
  // commands already sent keep the table they were sent with
  decoders_ = std::move(table);
  return env.Undefined();
}

Napi::Value Connection::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  const double timeout_ms = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : NAN;
  if (!info[0].IsFunction() || !(timeout_ms > 0) || !std::isfinite(timeout_ms)) {
    throw Napi::TypeError::New(env, "cancel(callback, timeoutMs): timeoutMs must be a positive number");
  }
  // a whole number of milliseconds that libuv's clock cannot overflow (some 285,000 years)
  constexpr double kLongestMs = 9e15;
  cancels_.Start(env, conn, info[0].As<Napi::Function>(),
                 static_cast<uint64_t>(std::ceil(std::fmin(timeout_ms, kLongestMs))));
  return env.Undefined();
}

Napi::Value Connection::EscapeLiteral(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  const StatementText text(env, info[0]);
  char* escaped = PQescapeLiteral(conn, text.data(), text.size());
  if (escaped == nullptr) ThrowLibpqError(env, "escaping a literal");
  Napi::String result = Napi::String::New(env, escaped);
  PQfreemem(escaped);
  return result;
}

Napi::Value Connection::EscapeIdentifier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  const StatementText text(env, info[0]);
  char* escaped = PQescapeIdentifier(conn, text.data(), text.size());
  if (escaped == nullptr) ThrowLibpqError(env, "escaping an identifier");
  Napi::String result = Napi::String::New(env, escaped);
  PQfreemem(escaped);
  return result;
}

Napi::Value Connection::TransactionStatus(const Napi::CallbackInfo& info) {
  if (state_ != State::kOpen) return Napi::Number::New(info.Env(), PQTRANS_UNKNOWN);
  return Napi::Number::New(info.Env(), PQtransactionStatus(conn_));
}

Napi::Value Connection::ParameterStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ != State::kOpen) return env.Null();
  std::string name = info[0].ToString().Utf8Value();
  const char* value = PQparameterStatus(conn_, name.c_str());
  if (value == nullptr) return env.Null();
  return Napi::String::New(env, value);
}

Napi::Value Connection::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PGconn* conn = OpenConn(env);
  auto text = [&](const char* value) { return Napi::String::New(env, value != nullptr ? value : ""); };
  Napi::Object result = Napi::Object::New(env);
  result.Set("serverVersion", Napi::Number::New(env, PQserverVersion(conn)));
  result.Set("backendPid", Napi::Number::New(env, PQbackendPID(conn)));
  result.Set("host", text(PQhost(conn)));
  result.Set("port", text(PQport(conn)));
  result.Set("dbname", text(PQdb(conn)));
  result.Set("user", text(PQuser(conn)));
  result.Set("sslInUse", Napi::Boolean::New(env, PQsslInUse(conn) == 1));
  return result;
}

Napi::Value Connection::PendingCommands(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pending_commands_);
}

Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  connect_callback_.Reset();
  CloseConnection();
  state_ = State::kClosed;
  UpdateKeepAlive();
  return info.Env().Undefined();
}

Napi::Value Connection::IsOpen(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_ == State::kOpen);
}

Napi::Value Connection::OwnMethod(const Napi::CallbackInfo& info) {
  return own_methods_.Get(info.Env(), info.This().As<Napi::Object>(),
                          static_cast<const OwnMethods<Connection>::Entry*>(info.Data()));
}

}  // namespace pqnode
