// A gRPC C++ async echo server for echo.v1.Echo/Get, used as the reference peer in
// Benchmarks/run.sh.
//
// One thread drives one completion queue, so the server handles calls on a single thread.
// gRPC's core library still starts a few internal helper threads, which is why run.sh pins
// the whole process to one CPU. Get returns the request's text and payload and copies the
// request metadata whose key starts with "x-echo-" into the initial and trailing metadata.
// The other Echo methods are not registered and fail with UNIMPLEMENTED.
//
// Usage: echo_server [--host H] [--port P] [--preposted N] [--exit-after SECONDS]
// Prints "listening on PORT" once it accepts calls. Stops on SIGINT or SIGTERM, or after
// --exit-after seconds when that is above 0 (the default, 0, waits for a signal).

#include <grpcpp/grpcpp.h>

#include <signal.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "echo/v1/echo.grpc.pb.h"

namespace {

using echo::v1::Echo;
using echo::v1::EchoRequest;
using echo::v1::EchoResponse;

constexpr const char kEchoPrefix[] = "x-echo-";

// One Get call from the moment it is requested from the queue until Finish completes.
class GetCall {
 public:
  GetCall(Echo::AsyncService* service, grpc::ServerCompletionQueue* queue)
      : service_(service), queue_(queue), responder_(&context_) {
    service_->RequestGet(&context_, &request_, &responder_, queue_, queue_, this);
  }

  // Advances the call after its last operation completed with `ok`.
  void Proceed(bool ok) {
    if (!finishing_) {
      if (!ok) {  // The server is shutting down; no call arrived for this slot.
        delete this;
        return;
      }
      new GetCall(service_, queue_);  // Keep a slot posted for the next call.

      for (const auto& [key, value] : context_.client_metadata()) {
        if (key.starts_with(kEchoPrefix)) {
          std::string name(key.data(), key.size());
          std::string text(value.data(), value.size());
          context_.AddInitialMetadata(name, text);
          context_.AddTrailingMetadata(name, text);
        }
      }
      response_.set_text(request_.text());
      response_.set_payload(request_.payload());
      finishing_ = true;
      responder_.Finish(response_, grpc::Status::OK, this);
      return;
    }
    delete this;
  }

 private:
  Echo::AsyncService* service_;
  grpc::ServerCompletionQueue* queue_;
  grpc::ServerContext context_;
  EchoRequest request_;
  EchoResponse response_;
  grpc::ServerAsyncResponseWriter<EchoResponse> responder_;
  bool finishing_ = false;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int preposted = 128;
  double exit_after = 0;
};

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "echo_server: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: echo_server [--host H] [--port P] [--preposted N] [--exit-after SECONDS]\n");
  std::exit(2);
}

long ParseInteger(const char* flag, const char* text, long min, long max) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < min || value > max) {
    UsageError(std::string("invalid ") + flag + " '" + text + "': must be an integer in " +
               std::to_string(min) + "..." + std::to_string(max));
  }
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) UsageError("missing value for " + flag);
    const char* value = argv[++i];
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--port") {
      options.port = static_cast<int>(ParseInteger("--port", value, 0, 65535));
    } else if (flag == "--preposted") {
      options.preposted = static_cast<int>(ParseInteger("--preposted", value, 1, 100000));
    } else if (flag == "--exit-after") {
      options.exit_after = static_cast<double>(ParseInteger("--exit-after", value, 0, 86400));
    } else {
      UsageError("unknown option " + flag);
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);

  // Block the stop signals in every thread, gRPC's included, so that only the stopper
  // thread receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Echo::AsyncService service;
  grpc::ServerBuilder builder;
  int bound_port = 0;
  std::string address = options.host + ":" + std::to_string(options.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::ServerCompletionQueue> queue = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "echo_server: failed to listen on %s\n", address.c_str());
    return 1;
  }

  for (int i = 0; i < options.preposted; ++i) new GetCall(&service, queue.get());

  std::thread stopper([&] {
    if (options.exit_after > 0) {
      timespec timeout{static_cast<time_t>(options.exit_after), 0};
      sigtimedwait(&stop_signals, nullptr, &timeout);
    } else {
      int signal_number = 0;
      sigwait(&stop_signals, &signal_number);
    }
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    queue->Shutdown();
  });

  std::printf("listening on %d\n", bound_port);
  std::fflush(stdout);

  void* tag = nullptr;
  bool ok = false;
  while (queue->Next(&tag, &ok)) static_cast<GetCall*>(tag)->Proceed(ok);

  stopper.join();
  std::printf("stopped\n");
  return 0;
}
