/** WebGPU status, device-loss notice, and the editor's current message. */
import { useShallow } from 'zustand/react/shallow';
import { useEditorStore } from '../state/editor';
import { useGpuStore } from '../state/gpu';

export function GpuBanner() {
  const { status, message, lostNotice, isFallbackAdapter } = useGpuStore(
    useShallow((s) => ({ status: s.status, message: s.message, lostNotice: s.lostNotice, isFallbackAdapter: s.isFallbackAdapter })),
  );
  return (
    <>
      {status === 'unavailable' && (
        <div className="banner warn" role="alert" data-testid="gpu-banner">
          <strong>Generating needs WebGPU.</strong> {message}
        </div>
      )}
      {lostNotice && (
        <div className="banner warn" role="alert" data-testid="gpu-lost">
          {lostNotice}{' '}
          <button type="button" onClick={() => useGpuStore.getState().dismissLostNotice()}>
            OK
          </button>
        </div>
      )}
      <span className="gpu-status" data-testid="gpu-status" data-status={status} title={message}>
        {status === 'ready'
          ? `${message}${isFallbackAdapter ? ' (software, slow)' : ''}`
          : status === 'checking'
            ? message
            : status === 'lost'
              ? 'GPU lost; reconnecting…'
              : 'No WebGPU'}
      </span>
    </>
  );
}

export function MessageBanner() {
  const message = useEditorStore((s) => s.message);
  if (!message) return null;
  return (
    <div
      className={`banner ${message.kind}`}
      role={message.kind === 'error' ? 'alert' : 'status'}
      data-testid={message.kind === 'error' ? 'error-banner' : 'info-banner'}
      data-code={message.code ?? ''}
    >
      <span>{message.text}</span>
      <button type="button" aria-label="Dismiss" onClick={() => useEditorStore.getState().showMessage(null)}>
        ×
      </button>
    </div>
  );
}
