/** The post step finds the lock this job holds under this state name. */
export const LOCK_STATE = 'lock';
