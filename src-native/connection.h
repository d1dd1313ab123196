// A libpq connection (PGconn) as a JS object. It owns the socket watcher and libpq's
// state; the order of operations (what to send when) belongs to lib/connection.ts.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "cancel.h"
#include "decoders.h"
#include "error_fields.h"
#include "own_methods.h"
#include "result_builder.h"
#include "socket_watch.h"

namespace pqnode {

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static Napi::Function Define(Napi::Env env);

  explicit Connection(const Napi::CallbackInfo& info);
  ~Connection() override;

  // Closes without calling into JS: used by the environment cleanup hook.
  void Shutdown();

  // What JS is told (the addon's `constants`, which lib/native.ts checks at load): the
  // items of a batch besides results, and the bits flush() returns.
  static constexpr int kEndOfCommand = -1;
  // a sync marker is kSyncBase + the transaction status read with it
  static constexpr int kSyncBase = 100;
  static constexpr int kOutputPending = 1;
  static constexpr int kInputWaiting = 2;

 private:
  enum class State { kNew, kConnecting, kOpen, kClosed };
  // kBoth: COPY BOTH (a replication stream): data both ways, read as kOut is; its messages
  // reach JS each behind its length, since their bounds matter
  enum class CopyState { kNone, kIn, kOut, kBoth };

  struct Notice {
    ErrorFieldList fields;
    std::string message;
  };
  struct Notification {
    std::string channel;
    std::string payload;
    int pid;
  };

  // JS methods
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value SendQuery(const Napi::CallbackInfo& info);
  Napi::Value SendPrepare(const Napi::CallbackInfo& info);
  Napi::Value SendQueryPrepared(const Napi::CallbackInfo& info);
  Napi::Value SendClosePrepared(const Napi::CallbackInfo& info);
  Napi::Value Sync(const Napi::CallbackInfo& info);
  Napi::Value SendFlushRequest(const Napi::CallbackInfo& info);
  Napi::Value SendSimpleQuery(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value PutCopyData(const Napi::CallbackInfo& info);
  Napi::Value PutCopyEnd(const Napi::CallbackInfo& info);
  Napi::Value PauseCopyOut(const Napi::CallbackInfo& info);
  Napi::Value ResumeCopyOut(const Napi::CallbackInfo& info);
  Napi::Value PauseReading(const Napi::CallbackInfo& info);
  Napi::Value ResumeReading(const Napi::CallbackInfo& info);
  Napi::Value ProcessInput(const Napi::CallbackInfo& info);
  Napi::Value SetDecoders(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value EscapeLiteral(const Napi::CallbackInfo& info);
  Napi::Value EscapeIdentifier(const Napi::CallbackInfo& info);
  Napi::Value TransactionStatus(const Napi::CallbackInfo& info);
  Napi::Value ParameterStatus(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value PendingCommands(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsOpen(const Napi::CallbackInfo& info);
  // the prototype's getter of an own method (see own_methods.h)
  Napi::Value OwnMethod(const Napi::CallbackInfo& info);

  // event loop side
  static void OnSocketEvent(void* owner, int status, int events);
  static void OnNotice(void* owner, const PGresult* result);
  void ContinueConnect();
  // Runs the steps of libpq's connection that can go on at once (see ContinueConnect), from
  // `status`, the last PQconnectPoll said; returns what libpq asks for then.
  PostgresPollingStatusType StepsAtOnce(PostgresPollingStatusType status);
  // Waits for what `status` asks (PGRES_POLLING_READING or _WRITING); false, with the reason
  // in `failure`, when libpq failed instead or the socket cannot be watched.
  bool WaitFor(PostgresPollingStatusType status, std::string* failure);
  void FinishConnect(const char* error);
  // Reads what came in (the socket when `read_socket`, else only what libpq already holds)
  // and hands results, notices, notifications and COPY data to JS; processInput() from JS
  // (ProcessInput) is the second kind.
  void ReadInput(bool read_socket);
  // Appends what libpq holds to `items`, up to kMaxBatch of them; true when it stopped at
  // that limit with more perhaps to come.
  bool DrainResults(Napi::Env env, std::vector<napi_value>& items);
  void ReadCopyOut(Napi::Env env);
  bool CopyReading() const { return copy_ == CopyState::kOut || copy_ == CopyState::kBoth; }
  void WriteOutput();
  void Fail(const std::string& message);
  void DeliverNotices(Napi::Env env);
  void DeliverNotifications(Napi::Env env);
  void CloseConnection();
  void UpdateWatch();
  void UpdateKeepAlive();
  void AfterSend();

  // helpers
  // rows per chunk of a result read in chunks and merged: libpq holds no more than these,
  // besides the JS rows already made from earlier chunks. A chunk's rows are made in one go
  // between turns of the event loop: chunks of 8192 filled V8's young generation in bursts
  // that left more of it resident, and made `wide` peak 9 MB higher, for no gain in speed.
  static constexpr int kMergedChunkRows = 2048;
  int FlushState();
  PGconn* OpenConn(Napi::Env env);  // throws a JS error when the connection is not open
  PGconn* PipelineConn(Napi::Env env);  // open, in pipeline mode, no COPY under way
  // counts a command just sent (and its sync, when asked for one); row_mode as ApplyRowMode reads it
  // `returns_rows`: a query whose rows, when row_mode is 0, are read in chunks and merged
  void CommandSent(Napi::Env env, PGconn* conn, bool sync, int row_mode = 0, bool object_rows = false,
                   bool returns_rows = false);
  // the command at the head of libpq's queue has ended (its NULL, or a sync)
  void CommandDone();
  // Single-row (1) or chunked (n > 1) mode for the command at the head of libpq's queue:
  // libpq takes it only before that command's first result is parsed, so it is set before
  // anything that parses input (PQisBusy, PQgetResult).
  void ApplyRowMode();
  void ThrowLibpqError(Napi::Env env, const char* what);
  // the JS callbacks, read from the callbacks object once, when the connection is made
  enum class Callback : uint32_t { kResults, kWritable, kFailure, kNotice, kNotification, kCopyData };
  static constexpr size_t kCallbackCount = 6;
  void Invoke(Callback callback, const std::vector<napi_value>& args);

  AddonData* addon_;
  PGconn* conn_ = nullptr;
  State state_ = State::kNew;
  CopyState copy_ = CopyState::kNone;
  bool copy_out_paused_ = false;
  // the COPY under way is a COPY BOTH: what it reads goes to JS as length-prefixed messages
  bool copy_framed_ = false;
  bool pipeline_on_ = false;
  bool output_pending_ = false;
  bool kept_alive_ = false;
  int pending_commands_ = 0;
  // What each command sent and not yet finished (syncs included) was sent with: its row
  // mode, the shape of its rows, and the decoder table of that moment, so that a table set for a later query never
  // decodes an earlier one's rows.
  struct SentCommand {
    int row_mode;
    std::shared_ptr<const DecoderTable> decoders;
    // rows as objects keyed by column name, where every value is final
    bool object_rows;
    // one result wanted, read in chunks (libpq 17+) so that libpq never holds all its rows
    bool merge_chunks;
  };
  std::deque<SentCommand> sent_commands_;
  bool row_mode_applied_ = false;
  // the consumer of streamed rows asked to stop reading (backpressure)
  bool reading_paused_ = false;
  size_t copy_unflushed_ = 0;
  SocketWatch watch_;
  // the cancel requests sent for this connection and not yet answered: closing abandons them
  CancelRequests cancels_;
  std::shared_ptr<const DecoderTable> decoders_ = std::make_shared<DecoderTable>();
  FieldsCache fields_cache_;
  // the result that the chunks of the command being read are merged into
  Napi::ObjectReference merge_target_;
  // the command tag, should it come with a chunk rather than with the end
  CommandTag merge_tag_;
  // weak: the callbacks object hangs off the JS object, so that a connection nobody holds
  // can be garbage-collected (and closed by the finalizer)
  Napi::FunctionReference callbacks_[kCallbackCount];
  Napi::FunctionReference connect_callback_;
  Napi::AsyncContext* async_context_ = nullptr;
  std::deque<Notice> notices_;
  // the storage ReadInput gathers each batch of results in, kept between reads
  std::vector<napi_value> spare_batch_;
  // sendQuery(), sendQueryPrepared() and the like, without napi_unwrap on every call
  static const OwnMethods<Connection>::Entry kOwnMethods[5];
  OwnMethods<Connection> own_methods_{this, kOwnMethods};
};

}  // namespace pqnode
