// The gateway's side of gitaly.SmartHTTPService: one grpc-js client for the
// configured target (a storage node or a router), with a fresh v2 token on
// every call when a secret is configured.
import * as grpc from '@grpc/grpc-js';
import { v2TokenInterceptor } from '../auth/index.js';
import { requireService } from '../protocol/index.js';
import type { GitService } from './repository-path.js';

const SERVICE_NAME = 'gitaly.SmartHTTPService';

/** Bytes are relayed in chunks far below this; it only guards against a broken peer. */
export const MAX_GRPC_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface Repository {
  storage_name: string;
  relative_path: string;
}

export interface DataMessage {
  data: Buffer;
}

export interface InfoRefsRequest {
  repository: Repository;
  git_protocol: string;
}

/** The first message of a Post*Pack stream; later ones carry only data. */
export interface PostPackFirstMessage {
  repository: Repository;
  git_protocol: string;
  gl_id?: string;
  gl_username?: string;
  gl_repository?: string;
}

export type InfoRefsCall = grpc.ClientReadableStream<DataMessage>;
export type PostPackCall = grpc.ClientDuplexStream<Partial<PostPackFirstMessage> & Partial<DataMessage>, DataMessage>;

export interface SmartHttpClient {
  infoRefs(service: GitService, request: InfoRefsRequest): InfoRefsCall;
  postPack(service: GitService): PostPackCall;
  close(): void;
}

export interface SmartHttpClientOptions {
  /** host:port of the gRPC server. */
  target: string;
  /** The shared v2 secret; undefined sends no token. */
  token?: string;
  channelCredentials?: grpc.ChannelCredentials;
}

const INFO_REFS_METHOD: Record<GitService, string> = {
  'git-upload-pack': 'InfoRefsUploadPack',
  'git-receive-pack': 'InfoRefsReceivePack',
};
const POST_METHOD: Record<GitService, string> = {
  'git-upload-pack': 'PostUploadPack',
  'git-receive-pack': 'PostReceivePack',
};

export function createSmartHttpClient(options: SmartHttpClientOptions): SmartHttpClient {
  const definition = smartHttpDefinition();
  const interceptors = options.token === undefined ? [] : [v2TokenInterceptor(options.token)];
  const client = new grpc.Client(options.target, options.channelCredentials ?? grpc.credentials.createInsecure(), {
    interceptors,
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
    // A retry would replay a push body, so grpc-js would keep up to a
    // megabyte of every call's messages for it; the gateway never retries.
    'grpc.enable_retries': 0,
  });
  return {
    infoRefs(service, request) {
      const method = methodOf(definition, INFO_REFS_METHOD[service]);
      return client.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new grpc.Metadata(),
      ) as InfoRefsCall;
    },
    postPack(service) {
      const method = methodOf(definition, POST_METHOD[service]);
      return client.makeBidiStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        new grpc.Metadata(),
      ) as PostPackCall;
    },
    close: () => client.close(),
  };
}

export function smartHttpDefinition(): grpc.ServiceDefinition {
  return requireService(SERVICE_NAME);
}

function methodOf(definition: grpc.ServiceDefinition, name: string): grpc.MethodDefinition<unknown, unknown> {
  const method = definition[name];
  if (method === undefined) throw new Error(`${SERVICE_NAME} has no method ${name} in proto/gitaly`);
  return method;
}
