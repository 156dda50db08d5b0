/** Hands a file to the user as a download. */
export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken its copy once the click is handled; free ours a little later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
