/**
 * Whether files are being dragged over the page, for the drop highlight. dragenter/dragleave
 * fire for every child element crossed, so a depth counter decides when the drag really left;
 * a drop, or a drag that ends anywhere, clears it.
 */
import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';

export function useDropHighlight() {
  const depth = useRef(0);
  const [dragging, setDragging] = useState(false);
  const reset = useCallback(() => {
    depth.current = 0;
    setDragging(false);
  }, []);
  useEffect(() => {
    // A drag cancelled outside the window or dropped elsewhere never sends us a dragleave.
    window.addEventListener('dragend', reset);
    window.addEventListener('drop', reset);
    return () => {
      window.removeEventListener('dragend', reset);
      window.removeEventListener('drop', reset);
    };
  }, [reset]);
  return {
    dragging,
    onDragEnter: (e: DragEvent) => {
      if (!e.dataTransfer.types.includes('Files')) return;
      depth.current++;
      setDragging(true);
    },
    onDragLeave: (e: DragEvent) => {
      if (!e.dataTransfer.types.includes('Files')) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    reset,
  };
}
