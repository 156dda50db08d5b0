/** Playback and export rates offered to the user (the reference demo writes 8 fps). */
export const PLAYER_FPS_CHOICES = [4, 6, 8, 10, 12, 15, 20, 24, 30] as const;
export const MAX_PLAYER_FPS = 30;
